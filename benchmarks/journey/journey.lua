-- The street trading journey for wrk (closed loop: each connection sends its next request when the last is answered).
--
-- Run with as many threads as connections (-t N -c N): wrk gives a script one Lua state per thread and does not say
-- which connection a response belongs to, so one connection per thread is one simulated citizen. The steps come from
-- benchmarks/journey/plan.py (written by plan.write_for_wrk), so both load generators walk exactly the same journey;
-- this file only interprets them, as benchmarks/journey/walker.py does:
--   JOURNEY_PLAN      plan.tsv: variant, name, method, path, status, location, mark, body file, content type
--   JOURNEY_CITIZENS  citizens.tsv, line N for thread N: number, client address, Cookie header (may be empty),
--                     variant, and where the citizen is in the walk: position (from 0), application id, the hidden
--                     csrfmiddlewaretoken, start_key and submit_key of the last page (empty when none); the variant
--                     "baseline" walks the baseline page: one GET of /, without cookies
--   JOURNEY_HOST      the public host name (Host header)
--   JOURNEY_START, JOURNEY_DEADLINE  the measured window, in CLOCK_MONOTONIC seconds (Python's time.monotonic)
--   JOURNEY_STATE_DIR where each thread writes its citizen's line (as in citizens.tsv) when it stops
--   JOURNEY_RESULT    where done() writes the tally as JSON
-- A response with another status or Location than the step expects is a failure: counted by step and status, and
-- the citizen starts again from the start page. The first response after the deadline stops the thread (nothing is
-- left in flight) and writes where its citizen is, so the next phase carries on from there; the caller interrupts
-- wrk once every thread has stopped. Responses are counted in the window (ok_window) and in all.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } journey_timespec;
int clock_gettime(int clock_id, journey_timespec *tp);
]])
local clock = ffi.new("journey_timespec")
local CLOCK_MONOTONIC = 1

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local threads = {}
local next_number = 0

function setup(thread)
  thread:set("citizen_index", next_number)
  next_number = next_number + 1
  table.insert(threads, thread)
end

local function split(line)
  local columns = {}
  for column in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(columns, column)
  end
  return columns
end

local function read_file(path)
  local file = assert(io.open(path, "rb"))
  local content = file:read("*a")
  file:close()
  return content
end

local steps, citizen, host, start, deadline
local position, application, values = 1, "", {}
ok, ok_window, failed, starts, feedback, walks = 0, 0, 0, 0, 0, 0
failures, submitted = {}, {}

local function blank_to_nil(text)
  if text == nil or text == "" then return nil end
  return text
end

function init(args)
  host = os.getenv("JOURNEY_HOST")
  local line_number = 0
  for line in io.lines(os.getenv("JOURNEY_CITIZENS")) do
    if line_number == citizen_index then
      local c = split(line)
      citizen = { number = c[1], ip = c[2], cookie = c[3], variant = c[4] }
      position = tonumber(c[5] or "0") + 1
      application = c[6] or ""
      values = {
        csrfmiddlewaretoken = blank_to_nil(c[7]), start_key = blank_to_nil(c[8]), submit_key = blank_to_nil(c[9]),
      }
    end
    line_number = line_number + 1
  end
  assert(citizen, "no citizen for thread " .. citizen_index)
  steps = {}
  for line in io.lines(os.getenv("JOURNEY_PLAN")) do
    local c = split(line)
    if c[1] == citizen.variant then
      table.insert(steps, {
        name = c[2], method = c[3], path = c[4], status = tonumber(c[5]),
        location = c[6] ~= "-" and c[6] or nil, mark = c[7] ~= "-" and c[7] or nil,
        body = c[8] ~= "-" and read_file(c[8]) or nil, content_type = c[9] ~= "-" and c[9] or nil,
      })
    end
  end
  assert(#steps > 0 and position <= #steps, "no such step for variant " .. citizen.variant)
  start = tonumber(os.getenv("JOURNEY_START"))
  deadline = tonumber(os.getenv("JOURNEY_DEADLINE"))
end

local function fill(text)
  return (text:gsub("__APP__", application))
end

function request()
  local step = steps[position]
  local headers = {
    ["Host"] = host,
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = citizen.ip,
    ["User-Agent"] = "govserve-journey-bench/1",
    ["Accept"] = "text/html",
  }
  if citizen.cookie ~= "" then headers["Cookie"] = citizen.cookie end
  if step.method == "GET" then
    return wrk.format("GET", fill(step.path), headers)
  end
  headers["Origin"] = "https://" .. host
  headers["Content-Type"] = step.content_type
  local body = step.body
    :gsub("__CSRF__", values["csrfmiddlewaretoken"] or "")
    :gsub("__START_KEY__", values["start_key"] or "")
    :gsub("__SUBMIT_KEY__", values["submit_key"] or "")
    :gsub("__CITIZEN__", citizen.number)
  return wrk.format("POST", fill(step.path), headers, body)
end

local function restart(reason)
  failed = failed + 1
  local key = steps[position].name .. ":" .. reason
  failures[key] = (failures[key] or 0) + 1
  position, application, values = 1, "", {}
end

local function handle(status, headers, body)
  local step = steps[position]
  if status ~= step.status then
    return restart(tostring(status))
  end
  local location = ""
  for name, value in pairs(headers) do
    if name:lower() == "location" then location = value end
  end
  if step.mark == "start" then
    local found = location:match("^/apply/(%x+%-%x+%-%x+%-%x+%-%x+)/$")
    if not found or #found ~= 36 then return restart("location") end
    application = found
    starts = starts + 1
  elseif step.location and location ~= fill(step.location) then
    return restart("location")
  end
  if status == 200 then
    for name, value in body:gmatch('name="([%w_]+)" value="([^"]+)"') do
      if name == "csrfmiddlewaretoken" or name == "start_key" or name == "submit_key" then
        values[name] = value
      end
    end
  end
  ok = ok + 1
  if step.mark == "submit" then
    table.insert(submitted, application)
  elseif step.mark == "feedback" then
    feedback = feedback + 1
  end
  if step.mark == "done" then
    walks = walks + 1
    position, application, values = 1, "", {}
  else
    position = position + 1
  end
end

local function save_state()
  local file = assert(io.open(os.getenv("JOURNEY_STATE_DIR") .. "/" .. citizen.number .. ".tsv", "w"))
  file:write(table.concat({
    citizen.number, citizen.ip, citizen.cookie, citizen.variant, tostring(position - 1), application,
    values["csrfmiddlewaretoken"] or "", values["start_key"] or "", values["submit_key"] or "",
  }, "\t") .. "\n")
  file:close()
end

function response(status, headers, body)
  local failed_before = failed
  handle(status, headers, body)
  local moment = now()
  if failed == failed_before and moment >= start and moment <= deadline then
    ok_window = ok_window + 1
  end
  if moment > deadline then
    save_state()
    wrk.thread:stop()
  end
end

local function json_string(text)
  return '"' .. tostring(text):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local total = { ok = 0, ok_window = 0, failed = 0, starts = 0, feedback = 0, walks = 0 }
  local all_failures, all_submitted = {}, {}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do
      total[name] = total[name] + thread:get(name)
    end
    for reason, count in pairs(thread:get("failures")) do
      all_failures[reason] = (all_failures[reason] or 0) + count
    end
    for _, id in ipairs(thread:get("submitted")) do
      table.insert(all_submitted, json_string(id))
    end
  end
  local reasons = {}
  for reason, count in pairs(all_failures) do
    table.insert(reasons, json_string(reason) .. ":" .. count)
  end
  local percentiles = {}
  for _, p in ipairs({ 50, 90, 95, 99 }) do
    table.insert(percentiles, string.format('"p%d":%.1f', p, latency:percentile(p) / 1000))
  end
  local file = assert(io.open(os.getenv("JOURNEY_RESULT"), "w"))
  file:write(string.format(
    '{"ok":%d,"ok_window":%d,"failed":%d,"starts":%d,"feedback":%d,"walks":%d,"failures":{%s},' ..
    '"submitted":[%s],' ..
    '"wrk_requests":%d,"wrk_seconds":%.3f,"wrk_errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_ms":{%s,"max":%.1f,"mean":%.1f}}',
    total.ok, total.ok_window, total.failed, total.starts, total.feedback, total.walks, table.concat(reasons, ","),
    table.concat(all_submitted, ","), summary.requests, summary.duration / 1e6,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    table.concat(percentiles, ","), latency.max / 1000, latency.mean / 1000))
  file:close()
end
