"""Misconceptions in the shipped entries catch wrong advice and leave correct text alone.

Each case names one misconception of an entry (by its claim) with sentences written the
way pasted assistant advice states the wrong claim (must be corrected) and sentences that
state the facts, deny the claim or ask about it (must not be corrected by any
misconception of that entry). Matching goes through `bot.triage.advice`, the same code the
bot uses on threads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.known_issues import KnownIssue, Misconception, load_dir
from bot.triage.advice import find_corrections, match_misconception, split_sentences
from bot.triage.training_data import NOT_ERROR, load_training_dir

ROOT = Path(__file__).resolve().parent.parent
ISSUES = {i.slug: i for i in load_dir(ROOT / "data" / "known_issues")}
EXAMPLES = load_training_dir(ROOT / "data" / "training")
MIN_MISCONCEPTIONS = 4


@dataclass(frozen=True)
class Case:
    slug: str
    claim: str
    yes: tuple[str, ...]
    no: tuple[str, ...]


CASES: tuple[Case, ...] = (
    Case(
        "model_not_found",
        "A ChatGPT Plus (or other paid ChatGPT) subscription includes API access to GPT-4 and other models",
        yes=(
            "API access to gpt-4o requires a ChatGPT Plus subscription.",
            "To call GPT-4 through the API you need an active ChatGPT Pro plan.",
        ),
        no=(
            "The API does not require a ChatGPT Plus subscription; it is billed separately.",
            "You don't need ChatGPT Plus for API access to gpt-4o.",
            "Does API access to gpt-4o require ChatGPT Plus?",
        ),
    ),
    Case(
        "rate_limit_exceeded",
        "The TPM number in the error is the model's context window or max_tokens setting",
        yes=(
            "The TPM value in that message is your account's context window.",
            "TPM refers to the max_tokens you set on the request.",
        ),
        no=(
            "TPM is not the context window; it is your tokens-per-minute limit.",
            "Is the TPM figure the same as the context window?",
        ),
    ),
    Case(
        "rate_limit_exceeded",
        "Rate limits apply only to bursts of requests, never to a single request",
        yes=(
            "Rate limits only apply to bursts of requests, so one call is always fine.",
            "A single request can never exceed the rate limit; only bursts do.",
        ),
        no=(
            "A single request can exceed the TPM limit if it is very large.",
            "Rate limits apply to every request, including a single large one.",
        ),
    ),
    Case(
        "unauthorized_scopes_readonly_key",
        "There is no workaround for the read-only key error; you can only wait for OpenAI",
        yes=(
            "ChatGPT says: There is no workaround for read-only keys at the moment.",
            "Unfortunately the only option is to wait until OpenAI fixes the dashboard.",
            "According to the AI, you cannot create a scoped key at all until they patch it.",
            "Unfortunately, there is currently no workaround other than waiting for OpenAI.",
        ),
        no=(
            "A workaround is to pick Restricted and set Read on each endpoint.",
            "It is not true that there is no workaround for read-only keys.",
            "Is there no workaround for read-only keys?",
        ),
    ),
    Case(
        "unauthorized_scopes_readonly_key",
        "The api.all.read error comes from your code or request and is fixed by removing the scope there",
        yes=(
            "**Why the error occurs**: your code is requesting the api.all.read scope, which your key is not allowed to use.",
            "Claude suggested: remove api.all.read from your request payload and try again.",
            "Check which scopes your client sends; remove the scope from your request.",
        ),
        no=(
            "The api.all.read message comes from the dashboard dialog, not from your code.",
            "Your code does not send api.all.read at all.",
            "Should I remove api.all.read from my code?",
        ),
    ),
    Case(
        "unauthorized_scopes_readonly_key",
        "Read-only keys must be enabled by OpenAI sales or support",
        yes=(
            "ChatGPT answer: contact OpenAI sales to enable read-only scopes for your organization.",
            "GPT says read-only keys must be enabled by OpenAI support before you can create them.",
        ),
        no=(
            "You do not need to contact sales to get restricted keys.",
            "Read-only keys are created in the dashboard without asking support.",
            "Do I have to contact support to enable read-only keys?",
        ),
    ),
    Case(
        "restricted_key_missing_scopes",
        "The Missing scopes error is caused by billing, credits or the plan/tier",
        yes=(
            "ChatGPT says the Missing scopes error means your billing is not set up correctly.",
            "**Solution**: Add more credits or upgrade your plan to fix the model.request error.",
            "Per ChatGPT: upgrade your tier to unlock the model.request scope.",
            "This usually happens when your account doesn't have sufficient credits.",
            "The missing scopes error indicates your organization has no billing set up.",
        ),
        no=(
            "The Missing scopes error is about key permissions, not billing.",
            "Adding credits will not fix missing scopes.",
            "Does missing scopes mean my billing is broken?",
        ),
    ),
    Case(
        "restricted_key_missing_scopes",
        "The model.request scope must be granted by OpenAI support or needs an Enterprise plan",
        yes=(
            "The AI explained that model.request is only available for Enterprise accounts.",
            "ChatGPT told me to contact OpenAI support so they can grant the model.request scope.",
            "The model.request permission must be requested from OpenAI.",
        ),
        no=(
            "model.request is set by choosing Request in the Model capabilities row.",
            "You do not need support to grant model.request.",
            "Is model.request only for enterprise accounts?",
        ),
    ),
    Case(
        "restricted_key_missing_scopes",
        "The Missing scopes error is a temporary OpenAI outage that goes away with retries",
        yes=(
            "**Why this happens**: Missing scopes is usually a temporary outage on OpenAI's side.",
            "Copilot suggests: just wait a bit and the scopes will resolve on their own.",
            "This is most likely a temporary outage on OpenAI's side and should resolve itself.",
        ),
        no=(
            "Missing scopes is not an outage; it is a permissions setting.",
            "Retrying will not change the key's scopes.",
            "Is missing scopes a temporary outage?",
        ),
    ),
    Case(
        "rate_limit_exceeded",
        "Paid or high-tier organizations are exempt from rate limiting",
        yes=(
            "ChatGPT says paid accounts have no rate limits, so this must be a bug.",
            "According to the AI, rate limits only apply to free accounts.",
            "GPT-4o claims tier 5 organizations never hit rate limits.",
            "Paid accounts don't have rate limits, so you are probably on the free tier.",
            "Since you're on a paid plan, rate limits should not apply to you.",
        ),
        no=(
            "Every tier has rate limits, including Tier 5.",
            "Rate limits apply to paid accounts too.",
            "Do paid accounts have no rate limits?",
        ),
    ),
    Case(
        "rate_limit_exceeded",
        "You have to contact sales or support to move up a usage tier",
        yes=(
            "**Solution**: Contact OpenAI sales to upgrade your tier and raise your limits.",
            "ChatGPT says tier upgrades must be requested from support by email.",
            "You should contact OpenAI support to request a tier upgrade.",
            "To get a higher tier you need to contact the OpenAI sales team.",
        ),
        no=(
            "Tiers move up automatically with cumulative payments and time since the first payment.",
            "You do not need to contact sales to move up a tier.",
            "Should I contact sales to raise my tier?",
        ),
    ),
    Case(
        "rate_limit_exceeded",
        "Retrying the 429 immediately in a loop gets the request through",
        yes=(
            "ChatGPT's answer: retry the request immediately in a loop and it will go through.",
            "The AI told me to keep retrying until it works.",
            "Write a loop that retries immediately until the request succeeds.",
        ),
        no=(
            "Retry with exponential backoff after the reset time in the headers.",
            "Do not retry immediately; wait for the reset.",
            "Can I retry the request immediately?",
        ),
    ),
    Case(
        "rate_limit_exceeded",
        'The "Request too large" error goes away if you wait and retry',
        yes=(
            "Copilot says the Request too large error will clear if you wait a minute and retry.",
            "**Solution**: Request too large is temporary, just retry with backoff.",
        ),
        no=(
            "Request too large needs a smaller request, not more retries.",
            "Waiting will not fix request too large.",
            "Will request too large go away if I retry?",
        ),
    ),
    Case(
        "insufficient_quota",
        "Subscribing to or upgrading ChatGPT Plus/Pro fixes the quota error",
        yes=(
            "ChatGPT says upgrading to ChatGPT Plus will fix the quota error.",
            "The AI suggested: subscribe to ChatGPT Pro to increase your API quota.",
        ),
        no=(
            "ChatGPT Plus does not add API credit.",
            "API billing is separate from a ChatGPT subscription.",
            "Will ChatGPT Plus fix the quota error?",
        ),
    ),
    Case(
        "insufficient_quota",
        "insufficient_quota is a rate limit, fixed by asking for a higher rate limit or slowing down",
        yes=(
            "ChatGPT says insufficient_quota means you hit a rate limit, so slow down.",
            "**Solution**: Request a higher rate limit from OpenAI to fix the insufficient_quota error.",
            "This error simply means you've hit a rate limit.",
        ),
        no=(
            "insufficient_quota is a billing problem, not a rate limit.",
            "Slowing down will not fix the quota error.",
            "Is insufficient_quota a rate limit?",
        ),
    ),
    Case(
        "org_verification_required",
        "A higher usage tier, more credit or an Enterprise plan unlocks the model instead of verification",
        yes=(
            "ChatGPT says gpt-image-1 is only available for Tier 5 customers.",
            "**Solution**: Upgrade to a higher tier to unlock gpt-image-1 access.",
            "According to the AI, adding more credits will give you access to o3 streaming.",
            "Access to gpt-image-1 is restricted to Tier 5 organizations.",
            "This model is only available to Enterprise customers.",
            "You need to be on Tier 4 or higher to access gpt-image-1.",
        ),
        no=(
            "gpt-image-1 needs organization verification, not a higher tier.",
            "Buying credits does not unlock gpt-image-1.",
            "Is gpt-image-1 only for Tier 5?",
        ),
    ),
    Case(
        "org_verification_required",
        "There is no way to use the model with streaming without verification",
        yes=(
            "ChatGPT says there is no workaround for streaming this model without verification.",
            "The AI told me the only way to fix it is to verify your organization.",
            "GPT says you cannot use o3 at all until you verify.",
        ),
        no=(
            "As a workaround, set stream=false until the organization is verified.",
            "Verification is not the only option for the streaming error.",
            "Is verification the only way to fix streaming?",
        ),
    ),
    Case(
        "org_verification_required",
        "Organization verification is done by e-mailing OpenAI support or sales",
        yes=(
            "ChatGPT suggests you email OpenAI support to get your organization verified.",
            "According to the AI, verification is handled by contacting sales.",
        ),
        no=(
            "Verify the organization yourself under Settings > Organization > General.",
            "You do not need to email support to verify.",
            "Do I email support to verify my organization?",
        ),
    ),
    Case(
        "run_active_thread_locked",
        "An active run cannot be cancelled, so the only way out is a new thread",
        yes=(
            "ChatGPT says you cannot cancel an active run, you have to wait.",
            "**Solution**: The only way out is to create a new thread and move on.",
            "The AI claims the thread stays locked forever once this happens.",
        ),
        no=(
            "You can list the runs and cancel the stale one.",
            "Cancelling the run unlocks the thread.",
            "Can I cancel an active run?",
        ),
    ),
    Case(
        "run_active_thread_locked",
        "Assistants is the current, preferred interface rather than a deprecated one",
        yes=(
            "ChatGPT says the Assistants API is the recommended way to build chat apps today.",
            "Per the AI: the Assistants API replaced the Responses API last year.",
        ),
        no=(
            "The Assistants API is deprecated in favour of the Responses API.",
            "New projects should use the Responses API instead of Assistants.",
            "Is the Assistants API the recommended one?",
        ),
    ),
    Case(
        "run_active_thread_locked",
        "The thread-locked error is caused by rate limits, quota or the account plan",
        yes=(
            "ChatGPT says the active run error is caused by hitting your rate limits.",
            "**Solution**: Upgrade your plan to unlock the thread and avoid locked runs.",
            "This error happens when you exceed your rate limit on the Assistants API.",
        ),
        no=(
            "The error means another run on the thread is still active.",
            "It is not caused by your plan or rate limit.",
            "Is the active run error caused by rate limits?",
        ),
    ),
    Case(
        "unsupported_param_max_tokens",
        "Downgrading the openai SDK makes max_tokens work again",
        yes=(
            "ChatGPT says downgrading the openai package will fix the max_tokens error.",
            "According to the AI, an older version of the SDK accepts max_tokens with o1.",
        ),
        no=(
            "Downgrading the SDK does not help; the model rejects the parameter.",
            "Upgrade the wrapper library so it sends max_completion_tokens.",
            "Will downgrading openai fix max_tokens?",
        ),
    ),
    Case(
        "unsupported_param_max_tokens",
        "max_completion_tokens is not a real OpenAI parameter (only Azure or a typo)",
        yes=(
            "Claude says max_completion_tokens is not a real OpenAI parameter.",
            "GPT told me max_completion_tokens is only for Azure deployments.",
            "max_completion_tokens is a typo in the error message; the real parameter is max_tokens.",
        ),
        no=(
            "Use max_completion_tokens with o1 and GPT-5 in Chat Completions.",
            "max_completion_tokens is the parameter the error asks for.",
            "Is max_completion_tokens a real parameter?",
        ),
    ),
    Case(
        "unsupported_param_max_tokens",
        "Chat Completions wants max_output_tokens as the replacement parameter name",
        yes=(
            "ChatGPT says: in Chat Completions, use max_output_tokens instead of max_tokens.",
            "The AI told me to set max_output_tokens with chat completions for o3.",
            "For Chat Completions, use max_output_tokens instead.",
        ),
        no=(
            "Chat Completions takes max_completion_tokens; Responses takes max_output_tokens.",
            "Use max_output_tokens only in the Responses API.",
            "Should I use max_output_tokens in Chat Completions?",
        ),
    ),
    Case(
        "unsupported_param_max_tokens",
        "The max_tokens error means your account or plan has no access to the model",
        yes=(
            "ChatGPT says the max_tokens error means your account does not have access to o1.",
            "**Solution**: Upgrade your plan so the unsupported parameter error goes away.",
            "The error means your account doesn't have access to o1.",
        ),
        no=(
            "The max_tokens error is about the parameter name, not your plan.",
            "Your account has access; only the parameter name is wrong.",
            "Does the max_tokens error mean my account lacks access?",
        ),
    ),
    Case(
        "unsupported_role_system",
        "The system role was removed or deprecated for all models",
        yes=(
            "ChatGPT says the system role was deprecated by OpenAI in 2024.",
            "Per the AI, OpenAI removed the system role, so use developer everywhere.",
            "OpenAI has deprecated the system role across the API.",
        ),
        no=(
            "The system role is unsupported only on some early reasoning models.",
            "System messages still work on gpt-4o.",
            "Has the system role been removed?",
        ),
    ),
    Case(
        "unsupported_role_system",
        "Updating or downgrading the openai library fixes the system role error",
        yes=(
            "ChatGPT says updating the openai library will fix the system role error.",
            "The AI claims the latest version of the SDK supports the system role for o1-mini.",
        ),
        no=(
            "The library version does not change which roles the model accepts.",
            "Fold the instructions into the first user message.",
            "Will updating the SDK fix the role error?",
        ),
    ),
    Case(
        "unsupported_role_system",
        "A higher plan or tier unlocks the system role on reasoning models",
        yes=(
            "ChatGPT says upgrading your plan will unlock the system role on o1-mini.",
            "According to the AI, the developer role is only for enterprise tier accounts.",
        ),
        no=(
            "Role support depends on the model, not your plan.",
            "Upgrading does not change role support.",
            "Does a higher tier unlock the system role?",
        ),
    ),
    Case(
        "reasoning_tokens_exhausted_empty_output",
        "You cannot control how many tokens a reasoning model spends on reasoning",
        yes=(
            "ChatGPT says you cannot control how much the model reasons.",
            "The AI claims reasoning effort cannot be changed on o4-mini.",
        ),
        no=(
            "Lower the reasoning effort and raise the cap.",
            "You can set reasoning effort to low.",
            "Can I control how much the model reasons?",
        ),
    ),
    Case(
        "reasoning_tokens_exhausted_empty_output",
        'finish_reason "length" or status "incomplete" means the prompt exceeded the context window',
        yes=(
            "ChatGPT says finish_reason length means your prompt is too long.",
            "**Why this happens**: status incomplete means you exceeded the context window.",
        ),
        no=(
            "finish_reason length means the output cap was used up by reasoning.",
            "The prompt is not too long; the cap is too small.",
            "Does finish_reason length mean my prompt is too long?",
        ),
    ),
    Case(
        "reasoning_tokens_exhausted_empty_output",
        "The empty answer is an OpenAI outage or server error",
        yes=(
            "ChatGPT says the empty response is an OpenAI outage.",
            "**Root cause**: Empty content indicates a server-side error at OpenAI.",
        ),
        no=(
            "The empty response comes back with status 200 and finish_reason length.",
            "An empty answer is not an outage here.",
            "Is the empty response an outage?",
        ),
    ),
    Case(
        "responses_item_not_found_store_false",
        "Retrying or waiting fixes the rs_ item not found error",
        yes=(
            "ChatGPT says to retry after a second so the rs_ item can propagate.",
            "The AI claims the not found error is a temporary propagation delay.",
        ),
        no=(
            "Retrying will not help because the item was never stored.",
            "Set store to true or pass encrypted reasoning content.",
            "Will retrying make the item appear?",
        ),
    ),
    Case(
        "responses_item_not_found_store_false",
        "Encrypted reasoning comes back on its own without asking for it",
        yes=(
            "ChatGPT says encrypted_content is returned automatically with store false.",
            "According to the AI, you don't need to include reasoning.encrypted_content, it is sent by default.",
        ),
        no=(
            "Request include reasoning.encrypted_content to get it.",
            "You need the include parameter for encrypted content.",
            "Is encrypted_content returned automatically?",
        ),
    ),
    Case(
        "realtime_session_disconnect",
        "The GA session takes flat input_audio_format / output_audio_format fields",
        yes=(
            "ChatGPT says: set input_audio_format to g711_ulaw in the session.update for Twilio.",
            'Claude wrote `session.input_audio_format = "pcm16"` is what the GA API expects.',
        ),
        no=(
            "In GA the format goes under session.audio.input.format.",
            "The flat audio format fields belong to the old beta schema.",
            "Where does input_audio_format go in GA?",
        ),
    ),
    Case(
        "realtime_session_disconnect",
        "Function call outputs work fine without their call_id, which is an optional field",
        yes=(
            "ChatGPT says the call_id is optional for function_call_output items.",
            "The AI told me you don't need to include the call_id in the tool output.",
            "The call_id is not required when sending the function output.",
        ),
        no=(
            "Always send the call_id with the function_call_output.",
            "Is call_id required in the tool output?",
            "The item needs the call_id of the function call it answers.",
        ),
    ),
    Case(
        "realtime_session_disconnect",
        "A close right after session.update is a network, firewall or connection problem",
        yes=(
            "ChatGPT says the disconnect after session.update is caused by your firewall.",
            "**Why this happens**: code 1000 means your internet connection dropped.",
        ),
        no=(
            "The close follows a session.update the server did not accept.",
            "Log the error events before the close.",
            "Is the disconnect caused by my firewall?",
        ),
    ),
    Case(
        "tool_calls_message_order",
        "Other messages may sit between the assistant tool_calls message and its tool results",
        yes=(
            "ChatGPT says: insert a user message between the tool_calls and the tool results to give context.",
            "The AI claims the tool results can come anywhere later in the conversation.",
            "GPT says the order of the messages doesn't matter.",
        ),
        no=(
            "Put the tool results directly after the assistant tool_calls message.",
            "No messages may come between the call and its results.",
            "Can I insert a user message between the tool call and the result?",
        ),
    ),
    Case(
        "tool_calls_message_order",
        "The tool-call order error is an OpenAI bug or outage that goes away with a retry",
        yes=(
            "ChatGPT says the tool_calls error is a temporary server-side issue.",
            "**Solution**: Just retry the request and the tool messages error will go away.",
            "This is a temporary OpenAI bug; retry the request.",
        ),
        no=(
            "The error comes from the message history you send.",
            "Retrying will not fix the tool call order.",
            "Is the tool_calls error an OpenAI bug?",
        ),
    ),
    Case(
        "tool_calls_message_order",
        "Tool replies may carry any id; matching the original tool_call_id is optional",
        yes=(
            "ChatGPT says the tool_call_id is optional in tool messages.",
            "The AI claims any id works as long as the role is tool.",
        ),
        no=(
            "Use the tool_call_id from the assistant message.",
            "Every tool message needs the matching tool_call_id.",
            "Is tool_call_id required?",
        ),
    ),
    Case(
        "image_safety_rejected",
        "The safety rejection is a server error or outage",
        yes=(
            "ChatGPT says the safety system error is a temporary glitch on OpenAI's servers.",
            "The AI told me this safety rejection is probably a server-side bug.",
            "GPT-4o said the moderation_blocked code means a temporary error at OpenAI.",
            "This is likely a temporary server-side error rather than a safety issue.",
        ),
        no=(
            "This is the safety filter refusing the prompt, not an outage.",
            "It is not an outage.",
            "Is the safety rejection an outage?",
        ),
    ),
    Case(
        "image_safety_rejected",
        "A rejected prompt must really violate the content policy; false positives do not happen",
        yes=(
            "ChatGPT says your prompt must contain something that violates the content policy.",
            "The AI claims false positives don't happen with the image safety system.",
        ),
        no=(
            "Harmless prompts are sometimes rejected too.",
            "False positives happen; rephrase the prompt.",
            "Does my prompt have to violate the policy to be rejected?",
        ),
    ),
    Case(
        "image_safety_rejected",
        "Nothing can be done about a safety rejection",
        yes=(
            "ChatGPT says there is no workaround for a safety rejection.",
            "The AI told me there's no way to get around a safety rejection.",
            "There is no way around the safety filter.",
        ),
        no=(
            "Rephrase the prompt with more context.",
            "You can report a false positive.",
            "Is there a fix for the safety rejection?",
        ),
    ),
    Case(
        "server_error_outage",
        "Retrying a 500 is pointless because server errors are permanent",
        yes=(
            "ChatGPT says you should not retry 500 errors because they are permanent.",
            "The AI claims server errors are not retryable.",
        ),
        no=(
            "Retry 500 errors with exponential backoff.",
            "Server errors are retryable.",
            "Should I retry 500 errors?",
        ),
    ),
    Case(
        "server_error_outage",
        "A 500 means you hit your rate limit or ran out of quota",
        yes=(
            "ChatGPT says the 500 error means you exceeded your rate limit.",
            "**Why the error occurs**: the server error is caused by your quota running out.",
            "A 500 error means you've run out of credits.",
        ),
        no=(
            "Rate limits give 429, not 500.",
            "The 500 is a platform-side error.",
            "Does a 500 mean I hit my rate limit?",
        ),
    ),
    Case(
        "server_error_outage",
        "Paying more or a higher plan or tier avoids 500 server errors",
        yes=(
            "ChatGPT says upgrading your tier will prevent these 500 errors.",
            "According to the AI, enterprise customers never get server errors.",
        ),
        no=(
            "Server errors come from the platform.",
            "Upgrading does not prevent 500 errors.",
            "Will upgrading my tier stop 500 errors?",
        ),
    ),
    Case(
        "account_deactivated_appeal",
        "Deactivations are final, permanent decisions with no appeal route",
        yes=(
            "ChatGPT says the deactivation is permanent and final.",
            "The AI told me you cannot appeal a termination like this.",
            "Per ChatGPT: there is no appeals process.",
        ),
        no=(
            "You can appeal through the form or by replying to the e-mail.",
            "The deactivation can be appealed.",
            "Can I appeal the deactivation?",
        ),
    ),
    Case(
        "account_deactivated_appeal",
        "The access terminated error is a billing problem that adding credit fixes",
        yes=(
            "ChatGPT says the access terminated error means your billing failed.",
            "**Solution**: Add more credits to restore access to your account.",
            "Top up your credit balance to restore access.",
        ),
        no=(
            "The termination is about usage policies.",
            "Adding credits will not restore access.",
            "Is access terminated a billing problem?",
        ),
    ),
    Case(
        "account_deactivated_appeal",
        "Appeals are answered within a day or two",
        yes=(
            "ChatGPT says appeals are usually answered within 24-48 hours.",
            "The AI claims the review takes a couple of days at most.",
        ),
        no=(
            "Reviews can take weeks.",
            "Expect the appeal to take a while.",
            "How long does an appeal take?",
        ),
    ),
    Case(
        "context_length_exceeded",
        "A paid plan or higher usage tier enlarges the model's context window",
        yes=(
            "ChatGPT says upgrading to a higher tier will increase your context window.",
            "The AI claims the context length depends on your plan.",
            "According to GPT, enterprise accounts get a larger context window.",
        ),
        no=(
            "The context window is fixed per model.",
            "Switch to a model with a larger window or trim the input.",
            "Does the context length depend on my plan?",
        ),
    ),
    Case(
        "context_length_exceeded",
        "The API silently truncates over-long input to fit the window",
        yes=(
            "ChatGPT says the API will automatically truncate the oldest messages for you.",
            "The AI claims excess tokens are dropped, so you can ignore the error.",
        ),
        no=(
            "The request is rejected; you must trim it yourself.",
            "Count tokens before sending and cut the history.",
            "Does the API truncate input automatically?",
        ),
    ),
    Case(
        "context_length_exceeded",
        "Bumping up the completion allowance (max_tokens) gives long prompts extra headroom",
        yes=(
            "ChatGPT says to increase max_tokens to fix the context length error.",
            "**Solution**: Raise max_tokens so the model has more room for long documents.",
            "Increase max_tokens to allow for longer inputs.",
        ),
        no=(
            "Lower max_tokens when the message mentions tokens in the completion.",
            "A larger max_tokens makes the request bigger.",
            "Should I increase max_tokens?",
        ),
    ),
    Case(
        "engine_overloaded",
        "Retrying the overloaded error is useless and you should switch provider instead",
        yes=(
            "ChatGPT says you should not retry the overloaded error.",
            "The AI claims retrying an overloaded response is pointless.",
        ),
        no=(
            "Retry with exponential backoff.",
            "The overloaded error usually clears after a short wait.",
            "Should I retry the overloaded error?",
        ),
    ),
    Case(
        "engine_overloaded",
        "A new API key or a new account gets around the overloaded error",
        yes=(
            "ChatGPT says a new API key will fix the overloaded error.",
            "**Solution**: Create a new API key, since overload errors are tied to keys.",
        ),
        no=(
            "The overloaded error is about server load.",
            "A new key will not help with server load.",
            "Will a new API key fix the overloaded error?",
        ),
    ),
    Case(
        "invalid_api_key",
        "A 401 for a wrong key really signals unpaid billing or zero credit",
        yes=(
            "ChatGPT says Incorrect API key means your billing is not set up.",
            "**Solution**: Add a payment method to activate your key.",
            "The Incorrect API key error usually means you have no credits on your account.",
        ),
        no=(
            "Missing credit gives insufficient_quota, not a 401.",
            "Check the masked key in the message.",
            "Does incorrect API key mean I have no credits?",
        ),
    ),
    Case(
        "invalid_api_key",
        "Those starred-out characters are arbitrary filler unrelated to your credential",
        yes=(
            "ChatGPT says the masked key in the error is just random characters.",
            "The AI told me to ignore the masked key part of the message.",
            "The masked part of the key in the error message is random and can be ignored.",
        ),
        no=(
            "The masked key shows what was really sent.",
            "Compare the masked value with your key.",
            "What does the masked key mean?",
        ),
    ),
    Case(
        "invalid_api_key",
        "Clearing the browser cache or cookies fixes Incorrect API key in your code",
        yes=(
            "ChatGPT says clearing your browser cache will fix the incorrect API key error.",
            "For the 401 error, the AI told me to clear cookies and log in again.",
            "Clear your browser cache, then run the script again.",
        ),
        no=(
            "Browser cache has nothing to do with a script's key.",
            "Check the environment variable your code reads.",
            "Would clearing the cache help?",
        ),
    ),
    Case(
        "invalid_response_format_schema",
        "Adding default values to schema properties makes them optional in strict mode",
        yes=(
            "ChatGPT says: add a default value to each optional field so strict mode accepts it.",
            "Claude claims Pydantic fields with defaults are fine in strict mode.",
        ),
        no=(
            "Drop the default keyword and make the field nullable.",
            "default is not permitted in strict schemas.",
            "Can I use default values in a strict schema?",
        ),
    ),
    Case(
        "invalid_response_format_schema",
        "Marking keys with Zod's .optional() modifier is the proper approach",
        yes=(
            "ChatGPT says to use .optional() for fields the model may skip.",
            "According to the AI, .optional() is the correct way to mark optional keys.",
        ),
        no=(
            "Use .nullable() instead so every key stays required.",
            "Zod optional fields cause this error.",
            "Should I use .optional() or .nullable()?",
        ),
    ),
    Case(
        "invalid_response_format_schema",
        "The invalid schema error is a temporary OpenAI bug that retrying fixes",
        yes=(
            "ChatGPT says the invalid schema error is a temporary server-side issue.",
            "**Solution**: Just retry the request, the response_format check is flaky.",
            "This is a temporary OpenAI bug with structured outputs; retry later.",
        ),
        no=(
            "Fix the schema: additionalProperties false and every key required.",
            "The schema breaks the strict rules.",
            "Is the invalid schema error temporary?",
        ),
    ),
    Case(
        "missing_api_key",
        "The missing-key error means the key is invalid, expired or revoked",
        yes=(
            "ChatGPT says the api_key client option must be set error means your key is expired.",
            "The AI claims your key has been revoked, so generate a new one.",
        ),
        no=(
            "The error means no key reached the client.",
            "Set OPENAI_API_KEY in the same environment.",
            "Does this error mean my key expired?",
        ),
    ),
    Case(
        "missing_api_key",
        "Where load_dotenv runs relative to client creation makes no difference",
        yes=(
            "ChatGPT says the order where you call load_dotenv doesn't matter.",
            "It doesn't matter where you call load_dotenv() in your code.",
            "The AI claims you can load .env anywhere, even after creating the client, and it works.",
        ),
        no=(
            "Load .env before constructing the client.",
            "Call load_dotenv at the top, before the import that creates the client.",
            "Does the order of load_dotenv matter?",
        ),
    ),
    Case(
        "missing_api_key",
        "Adding billing or credit fixes the missing API key error",
        yes=(
            "ChatGPT says adding a payment method will fix the missing api_key error.",
            "**Why this happens**: the key is missing because your billing is not set up.",
            "You need to add a payment method for the key to be found.",
        ),
        no=(
            "The error is raised before any request is sent.",
            "Billing has nothing to do with this error.",
            "Will adding billing fix the missing key error?",
        ),
    ),
    Case(
        "model_not_found",
        "model_not_found only ever means a misspelled or non-existent model name, never access",
        yes=(
            "ChatGPT says model_not_found only means you misspelled the model name.",
            "The AI claims the error has nothing to do with your access or project.",
        ),
        no=(
            "It can also mean the key's project cannot use the model.",
            "Check both the model ID and the key's project access.",
            "Does model_not_found only mean a typo?",
        ),
    ),
    Case(
        "model_not_found",
        "The correct model ID is a variant without the hyphen, such as gpt4o or gpt4",
        yes=(
            "ChatGPT says the correct model name is gpt4o without a hyphen.",
            "The AI told me to use gpt-4-o instead of gpt-4o.",
            "The correct model name is gpt4o.",
        ),
        no=(
            "The model ID is gpt-4o, exactly.",
            "Copy the ID from the models list.",
            "Is the correct model name gpt4o?",
        ),
    ),
    Case(
        "model_not_found",
        "model_not_found is an OpenAI outage and goes away if you wait",
        yes=(
            "ChatGPT says model_not_found is a temporary outage on OpenAI's side.",
            "The AI told me to just wait and the model will be available again.",
            "This is a temporary outage; wait a few hours and try again.",
        ),
        no=(
            "Check the model ID and the key's project.",
            "Waiting will not change the model ID.",
            "Is model_not_found an outage?",
        ),
    ),
    Case(
        "realtime_audio_truncated",
        "OpenAI has confirmed and shipped a fix for the truncated Realtime audio",
        yes=(
            "ChatGPT says OpenAI has already fixed the truncated audio in the latest release.",
            "According to the AI, a patch was rolled out for the realtime audio cut-off.",
            "OpenAI has fixed this issue in the latest version of the model.",
        ),
        no=(
            "No fix has been confirmed yet.",
            "A moderator passed the report to support.",
            "Has OpenAI fixed the audio cut-off?",
        ),
    ),
    Case(
        "realtime_audio_truncated",
        "Every Realtime model drops the end of the audio, so switching snapshots cannot help",
        yes=(
            "ChatGPT says every realtime model drops the end of the audio the same way.",
            "The AI claims switching to a preview snapshot won't help.",
        ),
        no=(
            "Compare with a preview snapshot; one report saw the problem only on gpt-realtime.",
            "Try the preview model to see if the words come through.",
            "Do all realtime models drop the end of the audio?",
        ),
    ),
    Case(
        "realtime_audio_truncated",
        "The missing audio is cut because the response hit its output token limit",
        yes=(
            "ChatGPT says the audio is cut off because you hit max_response_output_tokens.",
            "**Solution**: Increase max_response_output_tokens so the last words of the audio come through.",
        ),
        no=(
            "The transcript is complete, so the token limit is not the cause.",
            "Log the audio deltas against the transcript.",
            "Is the audio cut because of the token limit?",
        ),
    ),
    Case(
        "realtime_session_expired",
        "A paid plan, higher tier or Enterprise gets longer or unlimited Realtime sessions",
        yes=(
            "ChatGPT says enterprise customers get unlimited realtime sessions.",
            "The AI claims the session limit depends on your tier.",
        ),
        no=(
            "Sessions have a hard maximum duration.",
            "Reconnect before the cap.",
            "Do enterprise accounts get longer sessions?",
        ),
    ),
    Case(
        "realtime_session_expired",
        "session_expired means the connection sat idle for too long",
        yes=(
            "ChatGPT says session_expired means the connection was idle for too long.",
            "The AI told me an idle timeout closes the session, so send audio regularly.",
            "The session expires due to inactivity, so send periodic audio.",
        ),
        no=(
            "The session reached its maximum duration.",
            "Reconnect before the cap.",
            "Does session_expired mean the connection was idle?",
        ),
    ),
    Case(
        "realtime_transcription_null",
        "With WebRTC the body of the ephemeral-token request does not affect transcription",
        yes=(
            "ChatGPT says the token request body can be empty for WebRTC.",
            "The AI told me to mint the ephemeral token with an empty body and configure later.",
        ),
        no=(
            "Put input_audio_transcription in the body of the token request.",
            "The token request body carries the transcription config.",
            "Can the token request body be empty?",
        ),
    ),
    Case(
        "realtime_transcription_null",
        "Once transcription is configured the transcript is always filled in, it never fails",
        yes=(
            "ChatGPT says once you configure input_audio_transcription the transcript is always there.",
            "The AI claims you don't need to listen for the .failed event.",
        ),
        no=(
            "Listen for the .failed event too.",
            "Transcription can fail when the project allowlist excludes the model.",
            "Can transcription fail?",
        ),
    ),
    Case(
        "realtime_vad_interruption",
        "The self-interruptions are caused by network latency or a bad connection",
        yes=(
            "ChatGPT says the interruptions are caused by network latency.",
            "**Why this happens**: connection issues make the assistant interrupt itself.",
            "Network latency is the cause of these interruptions.",
        ),
        no=(
            "Echo of the model's own audio can trigger VAD.",
            "Filler words like ok and hmm can count as barge-in.",
            "Are the interruptions caused by latency?",
        ),
    ),
    Case(
        "realtime_vad_interruption",
        "Semantic VAD is smart enough to disregard backchannel sounds",
        yes=(
            "ChatGPT says semantic_vad ignores filler words like hmm.",
            "The AI claims backchannel words are ignored by the model.",
        ),
        no=(
            "Filler words can trigger barge-in.",
            "Tune eagerness to reduce false barge-ins.",
            "Does semantic VAD ignore filler words?",
        ),
    ),
    Case(
        "realtime_webrtc_ephemeral_token",
        "The SDP offer goes to the sessions or client_secrets endpoint",
        yes=(
            "ChatGPT says: post the SDP offer to /v1/realtime/client_secrets with the key.",
            "The AI told me to send the offer to /v1/realtime/sessions.",
        ),
        no=(
            "Mint the key at client_secrets and post the SDP to /v1/realtime/calls.",
            "The offer goes to the calls endpoint.",
            "Where do I post the SDP offer?",
        ),
    ),
    Case(
        "realtime_webrtc_ephemeral_token",
        "The empty 400 or 401 on the SDP POST is an OpenAI outage",
        yes=(
            "ChatGPT says the empty 400 error means an OpenAI outage.",
            "The AI told me to just wait and retry the WebRTC connection later.",
        ),
        no=(
            "Mint the key from the endpoint that matches the connection.",
            "Log the body of the failed POST.",
            "Is the empty 400 an outage?",
        ),
    ),
    Case(
        "remote_mcp_tool_error",
        "An MCP server that works in MCP Inspector is guaranteed to work with OpenAI's hosted tool",
        yes=(
            "ChatGPT says a server that works in MCP Inspector will work with the Responses API too.",
            "The AI claims that if it works in Inspector, it must work in Agent Builder as well.",
        ),
        no=(
            "Working in Inspector does not guarantee it works with the hosted client.",
            "Test with a plain Responses call as well.",
            "If it works in Inspector, will it work with OpenAI?",
        ),
    ),
    Case(
        "remote_mcp_tool_error",
        "Turning on background mode lets long MCP tools finish",
        yes=(
            "ChatGPT says: set background: true so long-running MCP tools can finish.",
            "The AI claims background mode avoids the MCP timeout.",
        ),
        no=(
            "Return a job id quickly and poll with another tool.",
            "Background mode with MCP failed in one report.",
            "Does background mode help with MCP timeouts?",
        ),
    ),
    Case(
        "sdk_v1_migration",
        "APIRemovedInV1 comes from the API server or your key/account",
        yes=(
            "ChatGPT says APIRemovedInV1 means your API key needs to be regenerated.",
            "The AI claims this error is returned by the OpenAI servers.",
        ),
        no=(
            "The error is raised by the package before any request.",
            "Port the calls to client.chat.completions.create.",
            "Does APIRemovedInV1 mean my key is wrong?",
        ),
    ),
    Case(
        "sdk_v1_migration",
        "ChatCompletion was renamed to openai.ChatCompletions / openai.Chat and still works at module level",
        yes=(
            "ChatGPT says: replace it with openai.ChatCompletions.create(...).",
            "The AI claims ChatCompletion was renamed to openai.Chat in 1.0.",
        ),
        no=(
            "Use client = OpenAI() and client.chat.completions.create.",
            "Create a client and call chat.completions.create on it.",
            "With openai 1.x the call is client.chat.completions.create(model=...).",
            "What replaced openai.ChatCompletion.create?",
        ),
    ),
    Case(
        "sdk_v1_migration",
        "The Python version causes APIRemovedInV1, so changing Python fixes it",
        yes=(
            "ChatGPT says downgrading your Python version will fix the error.",
            "The AI claims this error is caused by your Python version.",
        ),
        no=(
            "The openai package version decides this, not Python.",
            "Pin openai==0.28 or port the code.",
            "Does the Python version cause this?",
        ),
    ),
    Case(
        "unsupported_country",
        "Changing the billing address or card country fixes the region block",
        yes=(
            "ChatGPT says changing your billing address to a supported country fixes it.",
            "The AI claims the card country determines the region check.",
            "Changing your billing country to the US will fix it.",
        ),
        no=(
            "The egress IP of your server is what counts.",
            "Billing details have no effect on the region check.",
            "Does the billing address matter?",
        ),
    ),
    Case(
        "unsupported_country",
        "The region error is temporary and goes away if you retry",
        yes=(
            "ChatGPT says the unsupported_country_region_territory error is a temporary glitch.",
            "The AI told me to just retry later and the region error will clear.",
            "This is a temporary glitch; just retry.",
        ),
        no=(
            "Check the egress IP of your proxy.",
            "Send the traffic from a supported country.",
            "Is the region error temporary?",
        ),
    ),
    Case(
        "unsupported_country",
        "Clearing browser cache and cookies fixes the API region error",
        yes=(
            "ChatGPT says clearing your browser cache will fix the region error.",
            "For the 403 country error, the AI suggests you clear cookies and log in again.",
            "Clear your browser cache and cookies, then try again.",
        ),
        no=(
            "Check where the request comes from.",
            "The API checks the location of the server.",
            "Will clearing cookies help?",
        ),
    ),
    Case(
        "unsupported_country",
        "Only a short list of sanctioned countries is blocked; everywhere else works",
        yes=(
            "ChatGPT says only a few sanctioned countries are blocked.",
            "The AI told me OpenAI keeps a blocklist of countries.",
        ),
        no=(
            "OpenAI publishes a list of supported countries.",
            "Anything not on the supported list is unsupported.",
            "Which countries are supported?",
        ),
    ),
    Case(
        "unsupported_temperature",
        "Use top_p instead of temperature to control randomness on these models",
        yes=(
            "ChatGPT says: use top_p instead of temperature for o1.",
            "The AI claims top_p is still supported on reasoning models.",
        ),
        no=(
            "top_p is unsupported on those models too.",
            "Leave both sampling parameters out.",
            "Can I use top_p instead?",
        ),
    ),
    Case(
        "unsupported_temperature",
        "Changing the openai SDK version fixes the temperature error",
        yes=(
            "ChatGPT says upgrading the openai library will fix the temperature error.",
            "The AI claims an older version of the SDK accepts temperature for o1.",
        ),
        no=(
            "Omit temperature for this model.",
            "Configure the wrapper so it stops sending temperature.",
            "Will upgrading the SDK fix it?",
        ),
    ),
    Case(
        "unsupported_temperature",
        "A higher plan or tier unlocks custom temperature on reasoning models",
        yes=(
            "ChatGPT says upgrading your plan will unlock custom temperature on gpt-5.",
            "The AI claims temperature control is only for enterprise accounts on o1.",
        ),
        no=(
            "Temperature support depends on the model.",
            "Omit temperature for reasoning models.",
            "Does a higher tier unlock temperature?",
        ),
    ),
)


def _misconception(case: Case) -> Misconception:
    for misconception in ISSUES[case.slug].misconceptions:
        if misconception.claim == case.claim:
            return misconception
    raise AssertionError(f"{case.slug}: no misconception with claim {case.claim!r}")


def _case_id(case: Case) -> str:
    return f"{case.slug}:{case.claim[:40]}"


YES = [(c, s) for c in CASES for s in c.yes]
NO = [(c, s) for c in CASES for s in c.no]


def test_cases_cover_enough_sentences():
    for case in CASES:
        _misconception(case)
        assert len(case.yes) >= 2 and len(case.no) >= 2, _case_id(case)


@pytest.mark.parametrize("issue", list(ISSUES.values()), ids=lambda i: i.slug)
def test_every_entry_lists_several_misconceptions(issue: KnownIssue):
    assert len(issue.misconceptions) >= MIN_MISCONCEPTIONS, issue.slug
    claims = [m.claim for m in issue.misconceptions]
    assert len(set(claims)) == len(claims), f"{issue.slug}: duplicate claims"
    for misconception in issue.misconceptions:
        assert 2 <= len(misconception.patterns) <= 4, misconception.claim


@pytest.mark.parametrize(("case", "sentence"), YES, ids=[f"{_case_id(c)}|{s[:30]}" for c, s in YES])
def test_wrong_claim_is_matched(case: Case, sentence: str):
    assert match_misconception(sentence, _misconception(case)), sentence


@pytest.mark.parametrize(("case", "sentence"), NO, ids=[f"{_case_id(c)}|{s[:30]}" for c, s in NO])
def test_correct_denied_or_questioned_statement_is_not_matched(case: Case, sentence: str):
    hits = [m.claim for m in ISSUES[case.slug].misconceptions if match_misconception(sentence, m)]
    assert not hits, f"{sentence!r} matched {hits}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_wrong_claim_in_pasted_advice_gets_the_correction(case: Case):
    issue = ISSUES[case.slug]
    misconception = _misconception(case)
    posts = [
        "Getting this error since this morning, any idea?",
        f"I asked ChatGPT about it and it said:\n\n{case.yes[0]}\n\nDoes that sound right?",
    ]
    corrections = find_corrections(posts, issue)
    expected = " ".join(misconception.correction.split())
    assert expected in [c.correction for c in corrections], corrections


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_correct_statements_in_pasted_advice_get_no_correction(case: Case):
    advice = "\n\n".join(f"- {s}" for s in case.no if not s.rstrip().endswith("?"))
    posts = [f"ChatGPT's answer:\n\n{advice}\n\nHope this helps!"]
    assert find_corrections(posts, ISSUES[case.slug]) == []


def _not_error_sentences() -> list[str]:
    sentences: list[str] = []
    for example in EXAMPLES:
        if example.label != NOT_ERROR:
            continue
        for text in (example.title, example.text, *example.later_posts):
            sentences.extend(split_sentences(text))
    return sentences


NOT_ERROR_SENTENCES = _not_error_sentences()


def test_not_error_posts_exist():
    assert len(NOT_ERROR_SENTENCES) > 20


@pytest.mark.parametrize("issue", list(ISSUES.values()), ids=lambda i: i.slug)
def test_no_misconception_pattern_fires_on_not_error_posts(issue: KnownIssue):
    for misconception in issue.misconceptions:
        for pattern in misconception.compiled():
            for sentence in NOT_ERROR_SENTENCES:
                assert not pattern.search(sentence), (
                    f"{issue.slug}: {pattern.pattern[:50]!r} fires on not_error text "
                    f"{sentence[:80]!r}"
                )


@pytest.mark.parametrize("issue", list(ISSUES.values()), ids=lambda i: i.slug)
def test_no_misconception_pattern_fires_on_the_entrys_own_text(issue: KnownIssue):
    texts = [m.correction for m in issue.misconceptions]
    texts += [issue.summary, issue.workaround, issue.cause]
    sentences = [s for t in texts for s in split_sentences(t) + re.split(r"(?<=[.!?])\s+", t)]
    for misconception in issue.misconceptions:
        for pattern in misconception.compiled():
            for sentence in sentences:
                assert not pattern.search(sentence), (
                    f"{issue.slug}: {pattern.pattern[:50]!r} fires on the entry's own text "
                    f"{sentence[:80]!r}"
                )


@pytest.mark.parametrize("issue", list(ISSUES.values()), ids=lambda i: i.slug)
def test_quoting_the_error_itself_is_never_corrected(issue: KnownIssue):
    # Assistant answers usually restate the error string or the report first.
    literals = [p.value for p in issue.patterns if p.kind == "literal"]
    sentences = [s for t in (issue.title, *issue.examples, *literals) for s in split_sentences(t)]
    for misconception in issue.misconceptions:
        hits = [s for s in sentences if match_misconception(s, misconception)]
        assert not hits, f"{issue.slug}: {misconception.claim!r} matches {hits[0][:80]!r}"


# One correct answer per issue, written the way an assistant lays out the fix from the
# facts: none of its sentences may draw a correction.
CORRECT_ADVICE: dict[str, str] = {
    "unauthorized_scopes_readonly_key": "- Create the key with Restricted permissions and pick Read for each endpoint you need.\n- Alternatively create an All key and keep it on the server.\n- This looks like a problem with the Read Only preset; no fix has been announced.",
    "restricted_key_missing_scopes": "- Open the key's permissions and set Model capabilities to Request.\n- For the Responses API, grant both Read and Write.\n- Check which key your process actually sends and your role in the project.",
    "rate_limit_exceeded": "- Read the x-ratelimit-remaining and x-ratelimit-reset headers and back off.\n- Retry with exponential backoff and jitter.\n- Your tier rises with total payments and days since the first payment.\n- Make sure the error is not insufficient_quota.",
    "insufficient_quota": "- Check your credit balance under Billing overview.\n- Buy prepaid credit; ChatGPT Plus is billed separately.\n- Wait a few minutes after paying.\n- Check that the key belongs to the organization with credit.",
    "org_verification_required": "- Go to Settings > Organization > General and click Verify Organization.\n- After verifying, wait 15-30 minutes for access to propagate.\n- As a workaround for streaming, set stream=false.",
    "run_active_thread_locked": "- Wait until the run reaches a terminal state before adding messages.\n- List runs and cancel stale ones.\n- Submit tool outputs for runs in requires_action.\n- Consider migrating to the Responses API.",
    "unsupported_param_max_tokens": "- Replace max_tokens with max_completion_tokens.\n- In the Responses API use max_output_tokens.\n- Upgrade the wrapper library that injects max_tokens.",
    "unsupported_role_system": "- Move the system prompt into the first user message for o1-mini.\n- Use the developer role on newer reasoning models.\n- Also check for unsupported parameters like streaming.",
    "reasoning_tokens_exhausted_empty_output": "- Raise max_completion_tokens well above the expected answer length.\n- Lower reasoning effort.\n- Check finish_reason before using the text; reasoning tokens are billed.",
    "responses_item_not_found_store_false": '- Either use store: true with previous_response_id.\n- Or request include: ["reasoning.encrypted_content"] and pass the reasoning items back.',
    "realtime_session_disconnect": "- Use the GA session schema with session.type and nested session.audio settings.\n- Drop the OpenAI-Beta header.\n- Send function_call_output with the call_id, then response.create.",
    "tool_calls_message_order": "- Keep the assistant tool_calls message and its tool results together when trimming.\n- Answer every tool_call_id.\n- Do not insert other messages between them.",
    "image_safety_rejected": "- Rephrase the prompt and add context.\n- Retrying the same prompt will not help.\n- Report false positives to support.",
    "server_error_outage": "- Retry with exponential backoff.\n- Check status.openai.com, though it can lag.\n- Include request IDs when contacting support.",
    "account_deactivated_appeal": "- Reply to the deactivation email or use the appeal form.\n- Write to support@openai.com.\n- The forum cannot review deactivations, and reviews can take weeks.",
    "context_length_exceeded": "- Count tokens with tiktoken before sending.\n- Trim or summarize the history.\n- Chunk long documents or switch to a larger-context model.",
    "engine_overloaded": "- Retry after a brief wait with exponential backoff.\n- Check status.openai.com.\n- Contact support with the request ID if it persists.",
    "invalid_api_key": "- Check the masked key in the message to see what is being sent.\n- Make sure the header is Authorization: Bearer <key>.\n- Generate a new key and replace it everywhere.",
    "invalid_response_format_schema": "- Set additionalProperties: false on every object.\n- List every property in required.\n- Use nullable types for optional fields instead of omitting them.",
    "missing_api_key": "- Export OPENAI_API_KEY in the same shell that runs the app.\n- Load .env before creating the client.\n- For local servers pass a placeholder key.",
    "model_not_found": "- Check the exact model ID.\n- Make sure the key belongs to a project with access and API credit.\n- A ChatGPT subscription does not apply to the API.",
    "realtime_audio_truncated": "- Log the audio deltas against the transcript.\n- Compare with a preview snapshot.\n- No fix has been confirmed yet.",
    "realtime_session_expired": "- Reconnect before the cap and re-send instructions and tools.\n- Summarise the conversation as text for the new session.",
    "realtime_transcription_null": "- Configure input_audio_transcription in the token request body or session.update.\n- Listen for the completed and failed events.",
    "realtime_vad_interruption": "- Start with turn_detection null and enable VAD after the greeting.\n- Tune threshold and eagerness.\n- Use echo cancellation on the client.",
    "realtime_webrtc_ephemeral_token": "- Mint the ephemeral key from /v1/realtime/client_secrets.\n- Post the SDP to /v1/realtime/calls.\n- Check response.ok and log the error body.",
    "remote_mcp_tool_error": "- Keep tool runtime short and return a job id to poll.\n- Test the server with MCP Inspector and a plain Responses call.\n- Make sure the server is publicly reachable.",
    "sdk_v1_migration": "- Port the code to client = OpenAI() and client.chat.completions.create.\n- You can run openai migrate.\n- Or pin openai==0.28 as a stopgap.",
    "unsupported_country": "- Send API traffic from a server located in a supported country.\n- Check the egress IP of any proxy or cloud function.\n- Circumventing the restriction can get the account blocked.",
    "unsupported_temperature": "- Omit temperature for this model, or send 1.\n- Configure the wrapper so it stops injecting temperature.",
}


def test_correct_advice_covers_every_entry():
    assert set(CORRECT_ADVICE) == set(ISSUES)


@pytest.mark.parametrize("slug", sorted(CORRECT_ADVICE))
def test_correct_assistant_answer_gets_no_correction(slug: str):
    posts = [f"ChatGPT's answer:\n\n{CORRECT_ADVICE[slug]}\n\nHope this helps!"]
    assert find_corrections(posts, ISSUES[slug]) == []


# Correct answers that state the facts by denying the usual wrong claims ("is not a plan
# restriction", "won't help"): the negation guards must keep all of them uncorrected.
DENIALS: list[tuple[str, str]] = [
    (
        "unauthorized_scopes_readonly_key",
        "This is not a plan restriction. Restricted keys are available on every project. Pick Restricted and choose Read per endpoint.",
    ),
    (
        "restricted_key_missing_scopes",
        "The Missing scopes message is not about billing. Enabling only Responses is not enough: also set Model capabilities to Request.",
    ),
    (
        "rate_limit_exceeded",
        "A new API key will not give you a separate limit, because limits are per organization. Back off using the headers.",
    ),
    (
        "insufficient_quota",
        "ChatGPT Plus does not include API credit. The budget is a spending cap, not a balance. Add prepaid credit.",
    ),
    (
        "org_verification_required",
        "Verification is not a plan feature. It can take up to 15-30 minutes after verifying. Set stream=false meanwhile.",
    ),
    (
        "run_active_thread_locked",
        "A thread only allows one active run at a time. Cancel the stale run with the runs API.",
    ),
    (
        "unsupported_param_max_tokens",
        "Setting max_tokens to null does not help; remove the key entirely. Use max_completion_tokens instead.",
    ),
    (
        "unsupported_role_system",
        "The developer role works on o1 and o3-mini, but not on o1-mini. For o1-mini put the instructions into the user message.",
    ),
    (
        "reasoning_tokens_exhausted_empty_output",
        "Reasoning tokens count toward max_completion_tokens and are billed. Raise the limit.",
    ),
    (
        "responses_item_not_found_store_false",
        "With store=false you must not reference stored item ids. Include reasoning.encrypted_content instead.",
    ),
    (
        "realtime_session_disconnect",
        "The GA API does not accept the OpenAI-Beta header. Remove it and nest the audio format under session.audio.",
    ),
    (
        "tool_calls_message_order",
        "Every tool_call_id needs a tool message right after the assistant message. Don't drop the assistant message when trimming.",
    ),
    (
        "image_safety_rejected",
        "Retrying the exact same prompt won't help. The moderation endpoint may pass text the image filter rejects.",
    ),
    (
        "server_error_outage",
        "A green status page does not prove the problem is yours, since it can lag. Retry with backoff.",
    ),
    (
        "account_deactivated_appeal",
        "A new key won't help since the whole account is deactivated. The forum moderators cannot reverse it.",
    ),
    (
        "context_length_exceeded",
        "The context window does not grow with your plan. Trim the history or pick a larger-context model.",
    ),
    (
        "engine_overloaded",
        "The overloaded error is not about your account or billing. Retry with exponential backoff.",
    ),
    (
        "invalid_api_key",
        "Downgrading openai won't fix an invalid key. An OpenRouter key will not work against api.openai.com.",
    ),
    (
        "invalid_response_format_schema",
        "Strict mode doesn't allow optional fields to be omitted from required. Use nullable types.",
    ),
    (
        "missing_api_key",
        "The client needs a key even for Ollama, so pass a placeholder. Load .env before creating the client.",
    ),
    ("model_not_found", "gpt-4o is a real model ID. ChatGPT Plus doesn't give API access."),
    (
        "realtime_audio_truncated",
        "It's not necessarily your playback code. The transcript is complete while audio is missing.",
    ),
    (
        "realtime_session_expired",
        "Pings don't extend the session. GA raised the cap to 60 minutes.",
    ),
    (
        "realtime_transcription_null",
        "Transcription doesn't happen unless you configure it. A null transcript doesn't mean the model didn't hear you.",
    ),
    (
        "realtime_vad_interruption",
        "No single setting fixes it completely. Echo of the model's own voice can trigger barge-in.",
    ),
    (
        "realtime_webrtc_ephemeral_token",
        "Keys from the transcription sessions endpoint did not work for WebRTC. Use client_secrets.",
    ),
    (
        "remote_mcp_tool_error",
        "OpenAI's servers cannot reach localhost. Raising a timeout isn't possible on the hosted client, so return a job id.",
    ),
    (
        "sdk_v1_migration",
        "openai.ChatCompletion.create no longer works in 1.x. Upgrading further won't bring it back.",
    ),
    (
        "unsupported_country",
        "Using a VPN is against the terms and may get the account blocked. What matters is where the server is.",
    ),
    (
        "unsupported_temperature",
        "Temperature 0 is also rejected; only 1 is allowed. Not every model supports custom temperature.",
    ),
]


@pytest.mark.parametrize(("slug", "answer"), DENIALS, ids=[s for s, _ in DENIALS])
def test_answers_that_deny_the_wrong_claims_get_no_correction(slug: str, answer: str):
    advice = answer.replace(". ", ".\n\n")
    posts = [f"ChatGPT's answer:\n\n{advice}\n\nHope this helps!"]
    assert find_corrections(posts, ISSUES[slug]) == []


# True statements that share words with the wrong claims (tiers, retries, waiting, keys):
# no misconception of the entry may match them.
CORRECT_STATEMENTS: list[tuple[str, str]] = [
    ("rate_limit_exceeded", "Moving up a usage tier raises your rate limits."),
    (
        "rate_limit_exceeded",
        "Tier upgrades happen automatically once you have paid enough and enough days have passed.",
    ),
    (
        "rate_limit_exceeded",
        "Retry the request after the time given in the error, using exponential backoff.",
    ),
    ("rate_limit_exceeded", "Free organizations get very low limits, so adding credit helps."),
    (
        "rate_limit_exceeded",
        "If you poll an Assistants run in a tight loop you can hit the endpoint limit on any tier.",
    ),
    ("insufficient_quota", "Wait a few minutes after buying credits before retrying."),
    ("insufficient_quota", "A new key in the same organization sees the same balance."),
    (
        "insufficient_quota",
        "In July 2025 a platform incident caused unexpected quota errors and balances were restored.",
    ),
    ("server_error_outage", "This is a temporary problem on OpenAI's side; retry with backoff."),
    ("server_error_outage", "Check status.openai.com and retry later."),
    ("engine_overloaded", "The error is temporary and caused by load on OpenAI's servers."),
    ("engine_overloaded", "Wait a bit and retry with exponential backoff."),
    ("org_verification_required", "After verifying, wait up to 30 minutes and try again."),
    (
        "org_verification_required",
        "If the dashboard says verified but the API still refuses, contact support.",
    ),
    (
        "org_verification_required",
        "Make sure the key belongs to a project in the verified organization.",
    ),
    ("run_active_thread_locked", "Poll the run until it is completed, then add the next message."),
    ("run_active_thread_locked", "Use one thread per user and queue messages."),
    (
        "unsupported_param_max_tokens",
        "Older models still accept max_tokens, but reasoning models need max_completion_tokens.",
    ),
    ("unsupported_param_max_tokens", "Upgrade LangChain, since old versions inject max_tokens."),
    ("unsupported_role_system", "On gpt-4o the system role works fine."),
    ("unsupported_role_system", "o1-mini rejects both system and developer roles."),
    (
        "reasoning_tokens_exhausted_empty_output",
        "Retrying sometimes helps, but raising the cap is the real fix.",
    ),
    (
        "reasoning_tokens_exhausted_empty_output",
        "Set reasoning effort to low to leave more room for the answer.",
    ),
    (
        "responses_item_not_found_store_false",
        "Set store to true if you want to use previous_response_id.",
    ),
    (
        "responses_item_not_found_store_false",
        "Several SDKs fixed this by stripping the id and sending the encrypted content.",
    ),
    (
        "realtime_session_disconnect",
        "Send conversation.item.create with the function_call_output and call_id, then response.create.",
    ),
    (
        "realtime_session_disconnect",
        "Log the error events; the server usually explains why it closed.",
    ),
    (
        "tool_calls_message_order",
        "If you disable parallel tool calls you only get one call per turn.",
    ),
    (
        "tool_calls_message_order",
        "Each tool message carries the tool_call_id of the call it answers.",
    ),
    ("image_safety_rejected", "Adding context to the prompt often gets it through."),
    (
        "image_safety_rejected",
        "The moderation endpoint may not flag text that the image filter blocks.",
    ),
    ("account_deactivated_appeal", "Reply to the email you received to appeal."),
    (
        "account_deactivated_appeal",
        "Content your end users send through your key counts as your traffic.",
    ),
    (
        "context_length_exceeded",
        "GPT-5 rejects inputs above 272k tokens even though its window is 400k.",
    ),
    ("context_length_exceeded", "Lower max_tokens if the error mentions tokens in the completion."),
    ("context_length_exceeded", "Switching to a model with a larger context window also works."),
    ("invalid_api_key", "Generate a new key and replace the old one everywhere."),
    (
        "invalid_api_key",
        "The help center suggests clearing your browser cache for dashboard problems.",
    ),
    ("invalid_api_key", "Make sure the header reads Authorization: Bearer followed by your key."),
    (
        "invalid_response_format_schema",
        "You can also send the schema with strict set to false, but you lose the guarantee.",
    ),
    ("invalid_response_format_schema", "Use .nullable() in Zod instead of .optional()."),
    ("missing_api_key", "Pass api_key explicitly when constructing the client."),
    ("missing_api_key", "For a local server, any placeholder key works."),
    ("model_not_found", "In 2023 GPT-4 API access was gated by a waitlist."),
    (
        "model_not_found",
        "Project keys can be denied the models endpoint, which breaks clients that list models.",
    ),
    ("realtime_audio_truncated", "Compare the transcript with the audio deltas you received."),
    ("realtime_session_expired", "GA raised the maximum session length to 60 minutes."),
    ("realtime_session_expired", "Reconnect before the cap and send a text summary."),
    (
        "realtime_transcription_null",
        "Transcription events arrive asynchronously, sometimes after the model has answered.",
    ),
    ("realtime_vad_interruption", "Disable turn detection during the greeting, then turn it on."),
    (
        "realtime_webrtc_ephemeral_token",
        "Mint the ephemeral key from /v1/realtime/client_secrets and post the SDP to /v1/realtime/calls.",
    ),
    ("remote_mcp_tool_error", "Expose the MCP server on a public HTTPS URL."),
    (
        "remote_mcp_tool_error",
        "Background mode with MCP failed in one report, so try it synchronously.",
    ),
    ("sdk_v1_migration", "Pin openai==0.28 if you cannot port the code yet."),
    ("sdk_v1_migration", "Run openai migrate to update the code automatically."),
    ("unsupported_country", "Deploy the proxy in a supported region."),
    (
        "unsupported_country",
        "The help center warns that using the API from an unsupported location can get the account suspended.",
    ),
    ("unsupported_temperature", "Send temperature 1 or leave it out."),
    (
        "unsupported_temperature",
        "Some newer snapshots may accept other values, so check the model in use.",
    ),
    ("unauthorized_scopes_readonly_key", "No fix has been announced for the Read Only preset."),
    (
        "unauthorized_scopes_readonly_key",
        "Create a Restricted key and set Read on the endpoints you need.",
    ),
    (
        "restricted_key_missing_scopes",
        "Create a fresh key if you are unsure which permissions the old one has.",
    ),
    ("restricted_key_missing_scopes", "Check your role in the organization and the project."),
]


@pytest.mark.parametrize(
    ("slug", "sentence"), CORRECT_STATEMENTS, ids=[s for s, _ in CORRECT_STATEMENTS]
)
def test_true_statements_near_the_wrong_claims_are_not_matched(slug: str, sentence: str):
    hits = [m.claim for m in ISSUES[slug].misconceptions if match_misconception(sentence, m)]
    assert not hits, f"{sentence!r} matched {hits}"
