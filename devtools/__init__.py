"""Development and test tools that production does not install.

`devtools.simulator` is a real HTTP server speaking our Edge Functions and the SaaS APIs we
call, with switchable faults; `manage.py simulate` runs it (plus moto for Secrets Manager).
The app is in INSTALLED_APPS only with DEBUG=true or DEVTOOLS_ENABLED=true
(opsportal/settings.py). No production module imports it: tests, the e2e suite, benchmarks
and `serve_all` (by command name) use it.
"""
