// Session-timeout warning (WCAG 2.2.1 Timing Adjustable), progressive enhancement.
//
// base.html puts the session's deadline on <body> (data-session-timeout: the seconds left before
// the session ends, which is the idle timeout or up to a minute less, because the server stores
// a session's last-seen time at most once a minute; data-session-warning, in seconds) only for
// signed-in people and pages of a draft, and renders a closed <dialog> that holds the texts and
// a CSRF-protected form posting to /session/extend. Without JavaScript the dialog is never shown
// and the pages state the timeout instead.
//
// Here: `warning` seconds before the timeout the dialog opens as a modal (focus moves to its
// heading and stays inside it), counts down, and
//   - "Stay signed in" / "Continue", or Escape, posts the form with fetch, closes the dialog,
//     returns focus where it was and starts the count again from the seconds the server answers;
//   - when the time runs out, the page goes to /session/ended (which comes back here if
//     another tab kept the session alive).
// Tabs of the same site tell each other the session's new deadline (localStorage event) when a
// page loads or the session is extended.

const ACTIVITY_KEY = 'govserve.session.deadline'
const TICK_MS = 1000
// Go to the "ended" page a little after the server's deadline, never before it.
const EXPIRY_MARGIN_MS = 5000
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), [tabindex]:not([tabindex="-1"])'

export function countdownText (dialog, seconds) {
  const language = document.documentElement.lang || 'en'
  const unit = seconds >= 60 ? 'minutes' : 'seconds'
  const count = unit === 'minutes' ? Math.ceil(seconds / 60) : seconds
  let category = 'other'
  try {
    category = new Intl.PluralRules(language).select(count)
  } catch (error) {
    // An unknown language tag: the "other" form is the safe choice.
  }
  const form = dialog.dataset[`countdown${unit[0].toUpperCase()}${unit.slice(1)}${category[0].toUpperCase()}${category.slice(1)}`] ||
    dialog.dataset[`countdown${unit[0].toUpperCase()}${unit.slice(1)}Other`] || '{n}'
  return form.replace('{n}', String(count))
}

export class SessionTimeout {
  constructor (body, dialog) {
    this.body = body
    this.dialog = dialog
    this.timeoutMs = Number(body.dataset.sessionTimeout) * 1000
    this.warningMs = Number(body.dataset.sessionWarning) * 1000
    this.endedUrl = body.dataset.sessionEndedUrl
    this.signedIn = body.dataset.sessionSignedIn === 'true'
    this.form = dialog.querySelector('[data-session-extend-form]')
    this.heading = dialog.querySelector('h2')
    this.countdown = dialog.querySelector('[data-countdown]')
    this.announcement = dialog.querySelector('[data-countdown-announcement]')
    this.problem = dialog.querySelector('[data-extend-problem]')
    this.returnFocusTo = null
    this.timers = []
    this.deadline = 0
    this.lastAnnounced = ''
    this.extending = false
  }

  start () {
    if (!(this.timeoutMs > 0) || !this.form || typeof this.dialog.showModal !== 'function') return
    this.form.addEventListener('submit', (event) => {
      event.preventDefault()
      this.extend()
    })
    // Escape closes a modal dialog by cancelling it: extend instead of leaving the warning unanswered.
    this.dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      this.extend()
    })
    this.dialog.addEventListener('keydown', (event) => this.trapFocus(event))
    window.addEventListener('storage', (event) => {
      if (event.key !== ACTIVITY_KEY) return
      // Another tab of this session learnt its deadline from the server (a page, or an extension).
      const deadline = Number(event.newValue)
      if (deadline > Date.now()) {
        this.timeoutMs = deadline - Date.now()
        this.restart()
      }
    })
    this.schedule()
    // This page's request told us the session's deadline: other tabs count to it too.
    this.broadcast()
  }

  broadcast () {
    try {
      window.localStorage.setItem(ACTIVITY_KEY, String(this.deadline))
    } catch (error) {
      // Storage can be switched off: other tabs then keep their own count.
    }
  }

  schedule () {
    this.clearTimers()
    this.deadline = Date.now() + this.timeoutMs
    this.timers.push(window.setTimeout(() => this.open(), Math.max(0, this.timeoutMs - this.warningMs)))
    this.timers.push(window.setTimeout(() => this.expire(), this.timeoutMs + EXPIRY_MARGIN_MS))
  }

  clearTimers () {
    this.timers.forEach((timer) => window.clearTimeout(timer))
    this.timers = []
  }

  secondsLeft () {
    return Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000))
  }

  open () {
    if (this.dialog.open) return
    this.returnFocusTo = document.activeElement
    this.problem.hidden = true
    this.announcement.textContent = ''
    this.lastAnnounced = countdownText(this.dialog, this.secondsLeft())
    this.tick()
    this.dialog.showModal()
    this.heading.focus()
    this.timers.push(window.setInterval(() => this.tick(), TICK_MS))
  }

  tick () {
    const seconds = this.secondsLeft()
    const text = countdownText(this.dialog, seconds)
    this.countdown.textContent = text
    // Screen readers hear the time when the whole minutes change and every 20 seconds in the last
    // minute, not every second (the dialog's description already says the time when it opens).
    const announce = seconds >= 60 || seconds % 20 === 0 ? text : ''
    if (announce && announce !== this.lastAnnounced && seconds > 0) {
      this.lastAnnounced = announce
      this.announcement.textContent = announce
    }
  }

  close () {
    if (this.dialog.open) this.dialog.close()
    const target = this.returnFocusTo
    this.returnFocusTo = null
    if (target && typeof target.focus === 'function' && document.contains(target)) target.focus()
  }

  restart () {
    this.close()
    this.schedule()
  }

  async extend () {
    if (this.extending) return
    this.extending = true
    try {
      const response = await window.fetch(this.form.action, {
        method: 'POST',
        body: new window.FormData(this.form),
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      if (!response.ok) throw new Error(`status ${response.status}`)
      const answer = await response.json()
      if (!answer.extended || (this.signedIn && !answer.signed_in)) {
        this.expire()
        return
      }
      if (answer.expires_in_seconds > 0) this.timeoutMs = answer.expires_in_seconds * 1000
      this.restart()
      this.broadcast()
    } catch (error) {
      this.problem.hidden = false
      this.heading.focus()
    } finally {
      this.extending = false
    }
  }

  expire () {
    this.clearTimers()
    window.location.assign(this.endedUrl)
  }

  trapFocus (event) {
    if (event.key !== 'Tab') return
    const focusable = Array.from(this.dialog.querySelectorAll(FOCUSABLE)).filter((element) => !element.closest('[hidden]'))
    if (focusable.length === 0) return
    const first = focusable[0]
    const last = focusable[focusable.length - 1]
    const active = document.activeElement
    if (event.shiftKey && (active === first || active === this.heading || active === this.dialog)) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && active === last) {
      event.preventDefault()
      first.focus()
    }
  }
}

export function initSessionTimeout (root = document) {
  const body = root.body
  const dialog = root.querySelector('[data-module="govserve-session-timeout"]')
  if (!body || !dialog || !body.dataset.sessionTimeout) return null
  const warning = new SessionTimeout(body, dialog)
  warning.start()
  return warning
}
