"""The review console: where staff work the emails the processor will not decide alone, and
operators see the system at a glance. A Flask application served as the ``console`` HTTP
function (:func:`shared.console.app.create_app`); server-rendered Jinja2 pages, plain forms,
no script of its own.

Modules: ``auth`` (who is signed in: Identity-Aware Proxy's JWT in production, a development
sign-in locally), ``security`` (CSRF, Content-Security-Policy and the other headers),
``queries`` (reads), ``actions`` (claim, apply, hold, release, dismiss: each with its audit row
in one transaction), ``email_view`` (the email as text, its attachments), ``charts``
(server-rendered SVG), ``views`` and ``ops_views`` (the pages).
"""
