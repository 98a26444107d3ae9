"""What the bot writes on the forum: Markdown templates and the functions that render them.

`bot.replies.render` is the interface (render_reply, render_secret_notice,
render_escalation, render_review_note, render_followup); `bot.replies.neutralise`
makes member-written text inert wherever it is repeated.
"""
