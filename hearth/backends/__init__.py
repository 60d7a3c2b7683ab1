"""Chat backends: one `ChatBackend` protocol and its adapters.

`openai_compat` (any OpenAI-compatible server), `anthropic` (Claude's Messages API) and `embedded`
(the bundled SmolLM2 GGUF in-process: the offline default). `registry.get_backend(name)` builds
one from the config file. Backends know nothing about
personas or memory; they turn messages into text and say honestly which model produced it.
Adapters import their SDKs lazily, so importing this package stays cheap.
"""

from hearth.backends.base import (
    MISMATCH,
    UNVERIFIED,
    VERIFIED,
    ChatBackend,
    ChatMessage,
    ChatResult,
    ChatStream,
    Delta,
    Usage,
    Verification,
)
from hearth.backends.registry import ConnectionReport, configured_models, get_backend, specs, test_connection

__all__ = [
    "MISMATCH",
    "UNVERIFIED",
    "VERIFIED",
    "ChatBackend",
    "ChatMessage",
    "ChatResult",
    "ChatStream",
    "ConnectionReport",
    "configured_models",
    "Delta",
    "Usage",
    "Verification",
    "get_backend",
    "specs",
    "test_connection",
]
