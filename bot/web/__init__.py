"""The staff dashboard (Starlette + jinja2, server-rendered): see `bot.web.app.create_app`."""
