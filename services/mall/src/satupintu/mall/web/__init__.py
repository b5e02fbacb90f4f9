"""The mall's server-rendered pages (no script, nothing loaded from elsewhere), one module per journey: the queue
kiosk, ticket and now-calling display (``kiosk``), the performance board (``board``), the survey, the complaint form
and status, the consent ledger, and the staff pages (``staff_*``). They call the same use cases as the JSON API and
render through :mod:`satupintu.common.web`; ``rendering`` holds what every mall page shares."""
