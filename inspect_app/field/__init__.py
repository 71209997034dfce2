"""The inspectors' field app (现场检查): an offline web app served at /app/.

Static ES modules, one stylesheet, a manifest and a service worker; the app talks to the
server only through the public JSON API (/api/v1), like any other phone client.
"""
