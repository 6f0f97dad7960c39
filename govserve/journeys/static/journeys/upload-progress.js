// Upload progress for the journey's file forms (progressive enhancement).
//
// Without JavaScript a file form is a plain multipart form: it posts, and the server answers with
// a redirect (uploaded) or the page again with its errors (400). Every form marked
// `data-govserve-upload` is enhanced here, when GOV.UK Frontend says the browser is supported:
//
//   - submitting with a file chosen sends the same form data (the pressed button included) with
//     XMLHttpRequest, whose upload events drive a <progress> and a status live region that
//     announces each quarter ("25% uploaded"), not every percent;
//   - the server's answer is the plain form's: a redirect, which the request follows, and the
//     browser then goes to where it led; or a page with errors, whose <main> replaces this one's
//     (GOV.UK Frontend is started on it, so the error summary takes focus as after a page load);
//   - a network failure says so in the live region and leaves the form as it was, to try again.
//
// The texts come from the page (data attributes rendered in the person's language). The script
// is a module served from static files with the page's CSP nonce: no inline script anywhere.

import { initAll } from '/static/govuk/govuk-frontend.min.js'

const ANNOUNCE_EVERY = 25
const ENHANCED = 'govserveUploadEnhanced'

export function initUploadProgress (scope = document) {
  for (const form of scope.querySelectorAll('form[data-govserve-upload]')) {
    if (form.dataset[ENHANCED]) continue
    form.dataset[ENHANCED] = 'true'
    form.addEventListener('submit', (event) => onSubmit(form, event))
  }
}

function chosenFiles (form) {
  return [...form.querySelectorAll('input[type="file"]')].some((input) => input.files && input.files.length > 0)
}

function onSubmit (form, event) {
  if (form.dataset.govserveUploading) {
    event.preventDefault() // a second press while the first upload is under way
    return
  }
  if (!chosenFiles(form) || typeof window.FormData !== 'function') return // nothing to upload: the plain form
  event.preventDefault()
  upload(form, event.submitter)
}

function parts (form) {
  return {
    panel: form.querySelector('[data-upload-progress]'),
    bar: form.querySelector('[data-upload-progress] progress'),
    status: form.querySelector('[data-upload-status]')
  }
}

function say (status, text) {
  if (!status) return
  status.classList.add('govuk-body')
  status.textContent = text
}

// The form's address: not `form.action`, which a control named "action" (the documents page has one) hides.
function target (form) {
  return new URL(form.getAttribute('action') || window.location.href, document.baseURI).href
}

function upload (form, submitter) {
  const { panel, bar, status } = parts(form)
  const address = target(form)
  const data = new FormData(form)
  if (submitter && submitter.name) data.append(submitter.name, submitter.value)
  let announced = -1
  const show = (percent) => {
    if (bar) {
      bar.value = percent
      bar.textContent = `${percent}%`
    }
    const step = Math.floor(percent / ANNOUNCE_EVERY) * ANNOUNCE_EVERY
    if (step !== announced && status) {
      announced = step
      say(status, status.dataset.uploadedText.replace('{percent}', String(step)))
    }
  }
  const finish = () => {
    delete form.dataset.govserveUploading
    if (panel) panel.hidden = true
  }

  form.dataset.govserveUploading = 'true'
  if (panel) panel.hidden = false
  show(0)

  const request = new XMLHttpRequest()
  request.open((form.getAttribute('method') || 'post').toUpperCase(), address)
  // Lets the server tell this request from a page load (the page it redirects to is loaded again below).
  request.setRequestHeader('X-Requested-With', 'XMLHttpRequest')
  request.upload.addEventListener('progress', (progress) => {
    if (progress.lengthComputable && progress.total > 0) show(Math.round((progress.loaded / progress.total) * 100))
  })
  request.addEventListener('load', () => {
    if (request.status >= 200 && request.status < 300) {
      show(100)
      // Where the server's redirect led, as the plain form would have gone.
      window.location.assign(request.responseURL || address)
      return
    }
    finish()
    if (!showErrors(request.responseText)) {
      // Not a page we can show (an unexpected answer): send the form as a plain one.
      HTMLFormElement.prototype.submit.call(form)
    }
  })
  const failed = () => {
    finish()
    say(status, status ? status.dataset.failedText : '')
  }
  request.addEventListener('error', failed)
  request.addEventListener('timeout', failed)
  request.addEventListener('abort', failed)
  request.send(data)
}

function showErrors (html) {
  const fresh = new DOMParser().parseFromString(html, 'text/html')
  const incoming = fresh.querySelector('main')
  const main = document.querySelector('main')
  if (!incoming || !main) return false
  // Scripts in the answer carry another response's nonce: they are never copied (this page's run already).
  for (const script of incoming.querySelectorAll('script')) script.remove()
  main.replaceChildren(...[...incoming.childNodes].map((node) => document.importNode(node, true)))
  if (fresh.title) document.title = fresh.title
  initAll({ scope: main })
  initUploadProgress(main)
  return true
}

if (document.body.classList.contains('govuk-frontend-supported')) {
  initUploadProgress(document)
}
