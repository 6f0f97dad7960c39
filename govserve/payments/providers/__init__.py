"""Payment providers behind one interface (:mod:`.base`): the built-in sandbox and GOV.UK Pay, each with a fake."""
