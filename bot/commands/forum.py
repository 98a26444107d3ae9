"""`triagebot forum ...`: run the local Discourse-compatible forum for demos and tests."""

from __future__ import annotations

import time

import click

from bot.errors import UserError


@click.group("forum")
def forum() -> None:
    """Run the local Discourse-compatible forum (demo and end-to-end tests)."""


@forum.command("serve")
@click.option(
    "--seed",
    "seed_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSONL of threads to load (batch format plus optional authors, category, closed...).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, type=int, help="Port to listen on (0 picks a free port).")
@click.option(
    "--webhook", "webhooks", multiple=True, help="URL to POST post_created/post_edited events to."
)
@click.option(
    "--webhook-secret",
    default=None,
    envvar="FORUM_WEBHOOK_SECRET",
    help="Secret for the webhook signature (env FORUM_WEBHOOK_SECRET).",
)
@click.option(
    "--sso-secret",
    default=None,
    envvar="FORUM_SSO_SECRET",
    help="DiscourseConnect provider secret (env FORUM_SSO_SECRET); enables /session/sso_provider.",
)
@click.option(
    "--api-key",
    default=None,
    envvar="FORUM_API_KEY",
    help="Use this API key for the bot user instead of a random one (env FORUM_API_KEY).",
)
@click.option(
    "--staff-password",
    default=None,
    envvar="FORUM_STAFF_PASSWORD",
    help=(
        "Password for the login page for every staff user, plus a moderator 'staff1' "
        "(env FORUM_STAFF_PASSWORD)."
    ),
)
@click.option(
    "--member-password",
    default=None,
    envvar="FORUM_MEMBER_PASSWORD",
    help="Create a non-staff member 'member1' with this password (env FORUM_MEMBER_PASSWORD).",
)
@click.option(
    "--rate-limit",
    default=60,
    type=click.IntRange(min=1),
    show_default=True,
    help="Admin-API requests allowed per minute, site-wide.",
)
@click.option(
    "--rate-limit-create-post",
    "create_post_interval",
    default=0.0,
    type=click.FloatRange(min=0),
    show_default=True,
    help=(
        "Seconds a non-staff user must wait between creates, as Discourse's "
        "rate_limit_create_post (a stock forum uses 5; 0 turns it off). A refused create "
        "gets Discourse's 429 rate_limit with Retry-After."
    ),
)
@click.option(
    "--scopes",
    default=None,
    help=(
        "Make the bot's key granular with these comma-separated scopes, e.g. "
        "global:read,topics:write (default: a Global key)."
    ),
)
def serve_cmd(
    seed_path: str | None,
    host: str,
    port: int,
    webhooks: tuple[str, ...],
    webhook_secret: str | None,
    sso_secret: str | None,
    api_key: str | None,
    staff_password: str | None,
    member_password: str | None,
    rate_limit: int,
    create_post_interval: float,
    scopes: str | None,
) -> None:
    """Serve the local forum until Ctrl-C; prints its base URL and the bot's API key."""
    if not 0 <= port <= 65535:
        raise UserError(f"Invalid port {port}")
    if webhooks and not webhook_secret:
        raise UserError("--webhook needs --webhook-secret (Discourse signs every delivery)")
    from bot.forum_sim.server import serve
    from bot.forum_sim.state import BOT_USERNAME, ForumState

    state = ForumState(rate_limit_per_minute=rate_limit)
    state.rate_limit_create_post = create_post_interval
    if seed_path:
        topics = state.seed_from_jsonl(seed_path)
        click.echo(f"Seeded {len(topics)} topics from {seed_path}", err=True)
    if api_key:
        state.api_keys[api_key] = BOT_USERNAME
        key = api_key
    else:
        key = state.add_api_key(BOT_USERNAME)
    if scopes is not None:
        from bot.forum_sim.scopes import KNOWN_SCOPES

        wanted = frozenset(s.strip() for s in scopes.split(",") if s.strip())
        unknown = sorted(wanted - KNOWN_SCOPES)
        if unknown:
            raise UserError(
                f"--scopes: unknown {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_SCOPES))})"
            )
        state.api_key_scopes[key] = wanted
    if staff_password:
        state.add_user("staff1", moderator=True, trust_level=4)
        for user in list(state.users.values()):
            if user.staff and user.username != "system":
                user.password = staff_password
    if member_password:
        state.add_user("member1", trust_level=2, password=member_password)
    state.sso_secret = sso_secret
    for url in webhooks:
        state.add_webhook(url, webhook_secret or "")
    with serve(state, host=host, port=port) as base_url:
        click.echo(f"Forum: {base_url}")
        click.echo(f"API key ({BOT_USERNAME}): {key}")
        click.echo(f"Api-Username: {BOT_USERNAME}")
        if sso_secret:
            click.echo(
                f"DiscourseConnect: {base_url}/session/sso_provider (login: {base_url}/login)"
            )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            click.echo("Stopping forum.", err=True)


COMMANDS: list[click.Command] = [forum]
