// Progressive enhancement: initialise GOV.UK Frontend's components and govserve's own
// (the session-timeout warning). Every page works without this script.
import { initAll } from '/static/govuk/govuk-frontend.min.js'
import { initSessionTimeout } from './session-timeout.js'

initAll()
if (document.body.classList.contains('govuk-frontend-supported')) {
  initSessionTimeout(document)
}
