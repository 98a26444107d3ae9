"""Async Discourse API client (`client.DiscourseClient`), typed models, errors and webhooks.

The bot's API key needs, on a real forum: `global:read` (or at least `posts:list`,
`topics:read`, `search:show`, `users:show`), `topics:write` (replies, topics, PMs),
`topics:update` (tags) and, to flag posts, a Global key: Discourse maps no granular scope to
`post_actions#create`. `/site.json` and `/posts/{id}.json` also need `global:read`.
"""
