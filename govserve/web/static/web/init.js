// Progressive enhancement: initialise GOV.UK Frontend's components. Every page
// works without this script.
import { initAll } from '/static/govuk/govuk-frontend.min.js'
initAll()
