"""A local Discourse-compatible forum for the demo and every end-to-end test.

`state.ForumState` holds the forum (users, groups, categories, topics, posts, flags, API keys,
webhooks, fault injection); `app.create_app(state)` speaks Discourse's HTTP API over it;
`server.serve(state)` runs it with uvicorn on loopback; `sso` is its DiscourseConnect provider.
"""
