"""Alias and precedence tables: the only place that names producer attributes.

Read each entry like a row of the reference table (/work/shared/reference/genai-conventions.md
section 2): a unified field, then the attributes that carry it, in precedence order; the first
source whose value parses wins, so a malformed higher-precedence value falls through to the next.

General precedence when one span carries several conventions (pitfall 1): tracepond's own SDK
(``tracepond.*``) > Langfuse's explicit ``langfuse.observation.*`` > OpenInference > OTel GenAI
(current names) > OpenLLMetry extensions > MLflow > LangSmith > deprecated OTel/OpenLLMetry
names. Per-field exceptions are commented.

Adding a convention or a renamed attribute is an edit here plus a fixture; ``_keys.py``
precompiles these tables into one dict lookup per attribute key.
"""

from __future__ import annotations

from typing import Final

from tracepond.conventions._model import (
    AGENT,
    CHAIN,
    EMBEDDING,
    EVALUATOR,
    GUARDRAIL,
    LLM,
    RERANKER,
    RETRIEVER,
    TOOL,
)
from tracepond.conventions._parsers import (
    Parser,
    alias,
    const,
    count,
    dict_value,
    key,
    kind,
    model_name,
    number,
    plain,
    struct,
    tags,
    text,
)

# ---------------------------------------------------------------------------------------------
# Categories (reference section 1). Values are compared lowercased.

# tracepond's own SDK (docs/sdk.md): ``tracepond.span.kind`` is always set and says it exactly.
TRACEPOND_KINDS: Final = {
    "llm": LLM,
    "chat": LLM,
    "embedding": EMBEDDING,
    "retriever": RETRIEVER,
    "reranker": RERANKER,
    "tool": TOOL,
    "agent": AGENT,
    "chain": CHAIN,
    "guardrail": GUARDRAIL,
    "evaluator": EVALUATOR,
}

LANGFUSE_TYPES: Final = {
    "generation": LLM,
    "embedding": EMBEDDING,
    "retriever": RETRIEVER,
    "tool": TOOL,
    "agent": AGENT,
    "chain": CHAIN,
    "guardrail": GUARDRAIL,
    "evaluator": EVALUATOR,
}
OPENINFERENCE_KINDS: Final = {
    "llm": LLM,
    "embedding": EMBEDDING,
    "retriever": RETRIEVER,
    "reranker": RERANKER,
    "tool": TOOL,
    "agent": AGENT,
    "chain": CHAIN,
    "guardrail": GUARDRAIL,
    "evaluator": EVALUATOR,
}
MLFLOW_SPAN_TYPES: Final = {
    "llm": LLM,
    "chat_model": LLM,
    "embedding": EMBEDDING,
    "retriever": RETRIEVER,
    "reranker": RERANKER,
    "tool": TOOL,
    "agent": AGENT,
    "chain": CHAIN,
    "workflow": CHAIN,
    "task": CHAIN,
    "parser": CHAIN,
    "guardrail": GUARDRAIL,
    "evaluator": EVALUATOR,
}
LANGSMITH_KINDS: Final = {
    "llm": LLM,
    "embedding": EMBEDDING,
    "retriever": RETRIEVER,
    "tool": TOOL,
    "chain": CHAIN,
    "parser": CHAIN,
    "prompt": CHAIN,
}
GENAI_OPERATIONS: Final = {
    "chat": LLM,
    "text_completion": LLM,
    "generate_content": LLM,
    "completion": LLM,
    "generate": LLM,
    "response": LLM,
    "embeddings": EMBEDDING,
    "retrieval": RETRIEVER,
    "search_memory": RETRIEVER,
    "vector_db_retrieve": RETRIEVER,  # OpenLLMetry LangChain retriever spans
    "execute_tool": TOOL,
    "invoke_agent": AGENT,
    "create_agent": AGENT,
    "plan": AGENT,
    "invoke_workflow": CHAIN,
    "execute_task": CHAIN,
    "apply_guardrail": GUARDRAIL,
    "guardrail.run": GUARDRAIL,
}
# Legacy OpenLLMetry ``llm.request.type`` (their LLM spans carry no traceloop.span.kind).
TRACELOOP_REQUEST_TYPES: Final = {
    "chat": LLM,
    "completion": LLM,
    "embedding": EMBEDDING,
    "rerank": RERANKER,
}
TRACELOOP_KINDS: Final = {"tool": TOOL, "agent": AGENT, "workflow": CHAIN}
# Generic kinds: used only when nothing more specific (including the hints below) says otherwise.
WEAK_KINDS: Final = {"task": CHAIN, "chain": CHAIN}

CATEGORY_SOURCES: Final[tuple[tuple[str, Parser], ...]] = (
    ("tracepond.span.kind", kind(TRACEPOND_KINDS)),
    ("langfuse.observation.type", kind(LANGFUSE_TYPES)),
    ("openinference.span.kind", kind(OPENINFERENCE_KINDS)),
    ("mlflow.spanType", kind(MLFLOW_SPAN_TYPES)),
    # LangSmith before gen_ai.operation.name: it writes retriever runs as operation "embeddings".
    ("langsmith.span.kind", kind(LANGSMITH_KINDS)),
    ("gen_ai.operation.name", kind(GENAI_OPERATIONS)),
    ("llm.request.type", kind(TRACELOOP_REQUEST_TYPES)),
    ("traceloop.span.kind", kind(TRACELOOP_KINDS)),
)
WEAK_CATEGORY_SOURCES: Final[tuple[tuple[str, Parser], ...]] = (
    ("traceloop.span.kind", kind(WEAK_KINDS)),
)
# Presence fallbacks (Langfuse/Phoenix): the attribute's existence implies the category.
CATEGORY_HINTS: Final[tuple[tuple[str, Parser], ...]] = (
    ("gen_ai.tool.name", const(TOOL)),
    ("gen_ai.tool.call.id", const(TOOL)),
    ("gen_ai.retrieval.documents", const(RETRIEVER)),
    ("gen_ai.retrieval.query.text", const(RETRIEVER)),
    ("gen_ai.embeddings.dimension.count", const(EMBEDDING)),
    ("gen_ai.request.model", const(LLM)),
    ("gen_ai.response.model", const(LLM)),
    ("llm.model_name", const(LLM)),
    ("langfuse.observation.model.name", const(LLM)),
    ("gen_ai.input.messages", const(LLM)),
)
# Indexed families whose presence implies a category (checked after the hints above).
FAMILY_CATEGORY: Final = {
    "oi_documents": RETRIEVER,
    "oi_reranker_output": RERANKER,
    "oi_input_messages": LLM,
    "legacy_prompt": LLM,
}

# ---------------------------------------------------------------------------------------------
# Providers (pitfall 4): canonical OTel ``gen_ai.provider.name`` values. None = not a model
# vendor (framework names that OpenLLMetry and LangSmith put in the provider slot).

PROVIDER_ALIASES: Final[dict[str, str | None]] = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "az.ai.openai": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure-openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "anthropic": "anthropic",
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "aws_bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "google": "gcp.vertex_ai",
    "vertex_ai": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "google_vertexai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gemini",
    "google_gemini": "gcp.gemini",
    "xai": "x_ai",
    "mistralai": "mistral_ai",
    "mistral": "mistral_ai",
    "watsonx": "ibm.watsonx.ai",
    "ibm": "ibm.watsonx.ai",
    "moonshot": "moonshot_ai",
    "langchain": None,
    "langgraph": None,
    "llamaindex": None,
    "llama_index": None,
    "crewai": None,
    "haystack": None,
    "unknown": None,
    "": None,
}
provider = alias(PROVIDER_ALIASES)

# ---------------------------------------------------------------------------------------------
# Field sources in precedence order. Token maps (MLflow tokenUsage, Langfuse usage_details,
# LangSmith token details) are read with ``key(...)``, which accepts JSON, kvlist or Python repr.

_MLFLOW_USAGE = "mlflow.chat.tokenUsage"
_LANGFUSE_USAGE = "langfuse.observation.usage_details"
_LANGFUSE_COST = "langfuse.observation.cost_details"

FIELD_SOURCES: Final[dict[str, tuple[tuple[str, Parser], ...]]] = {
    "category": CATEGORY_SOURCES,
    "category_weak": WEAK_CATEGORY_SOURCES,
    "category_hint": CATEGORY_HINTS,
    # model: what actually ran (response) before what was asked for (request).
    "model": (
        ("langfuse.observation.model.name", model_name),
        ("llm.response.model_name", model_name),
        ("llm.model_name", model_name),
        ("gen_ai.response.model", model_name),
        ("gen_ai.request.model", model_name),
        ("llm.request.model_name", model_name),
        ("embedding.model_name", model_name),
        ("reranker.model_name", model_name),
        ("mlflow.llm.model", model_name),
        ("langsmith.metadata.ls_model_name", model_name),
    ),
    "request_model": (
        ("gen_ai.request.model", model_name),
        ("llm.request.model_name", model_name),
        ("langsmith.metadata.ls_model_name", model_name),
    ),
    "response_model": (
        ("gen_ai.response.model", model_name),
        ("llm.response.model_name", model_name),
    ),
    # provider: explicit vendor names first; LangSmith's gen_ai.system is guessed from the model
    # name, so its own ls_provider outranks it.
    "provider": (
        ("gen_ai.provider.name", provider),
        ("llm.provider", provider),
        ("llm.system", provider),
        ("mlflow.llm.provider", provider),
        ("langsmith.metadata.ls_provider", provider),
        ("gen_ai.system", provider),
    ),
    "input_tokens": (
        ("llm.token_count.prompt", count),
        ("gen_ai.usage.input_tokens", count),
        ("gen_ai.usage.prompt_tokens", count),
        (_LANGFUSE_USAGE, key("input", "input_tokens", "prompt_tokens")),
        (_MLFLOW_USAGE, key("input_tokens", "prompt_tokens")),
    ),
    "output_tokens": (
        ("llm.token_count.completion", count),
        ("gen_ai.usage.output_tokens", count),
        ("gen_ai.usage.completion_tokens", count),
        (_LANGFUSE_USAGE, key("output", "output_tokens", "completion_tokens")),
        (_MLFLOW_USAGE, key("output_tokens", "completion_tokens")),
    ),
    "total_tokens": (
        ("llm.token_count.total", count),
        ("gen_ai.usage.total_tokens", count),
        ("llm.usage.total_tokens", count),
        (_LANGFUSE_USAGE, key("total", "total_tokens")),
        (_MLFLOW_USAGE, key("total_tokens")),
    ),
    "cache_read_tokens": (
        ("llm.token_count.prompt_details.cache_read", count),
        ("gen_ai.usage.cache_read.input_tokens", count),
        ("gen_ai.usage.cache_read_input_tokens", count),
        (_LANGFUSE_USAGE, key("cache_read_input_tokens", "input_cached_tokens", "cache_read")),
        (_MLFLOW_USAGE, key("cache_read_input_tokens")),
        ("gen_ai.usage.input_token_details", key("cache_read", "cached_tokens")),
    ),
    "cache_write_tokens": (
        ("llm.token_count.prompt_details.cache_write", count),
        ("gen_ai.usage.cache_write.input_tokens", count),
        ("gen_ai.usage.cache_creation.input_tokens", count),
        ("gen_ai.usage.cache_creation_input_tokens", count),
        (_LANGFUSE_USAGE, key("cache_creation_input_tokens", "cache_write")),
        (_MLFLOW_USAGE, key("cache_creation_input_tokens")),
        ("gen_ai.usage.input_token_details", key("cache_creation", "cache_write")),
    ),
    "reasoning_tokens": (
        ("llm.token_count.completion_details.reasoning", count),
        ("gen_ai.usage.reasoning.output_tokens", count),
        ("gen_ai.usage.reasoning_tokens", count),
        ("llm.usage.reasoning_tokens", count),
        (_LANGFUSE_USAGE, key("reasoning", "reasoning_tokens", "output_reasoning_tokens")),
        ("gen_ai.usage.output_token_details", key("reasoning", "reasoning_tokens")),
    ),
    # cost in USD; prompt+completion parts are summed only when no total is given.
    "cost": (
        (_LANGFUSE_COST, key("total", conv=number)),
        ("llm.cost.total", number),
        ("gen_ai.usage.cost", number),
        ("mlflow.llm.cost", key("total_cost", conv=number)),
    ),
    "cost_input": (
        (_LANGFUSE_COST, key("input", conv=number)),
        ("llm.cost.prompt", number),
        ("mlflow.llm.cost", key("input_cost", conv=number)),
    ),
    "cost_output": (
        (_LANGFUSE_COST, key("output", conv=number)),
        ("llm.cost.completion", number),
        ("mlflow.llm.cost", key("output_cost", conv=number)),
    ),
    # Structured message attributes (JSON text or native OTLP array/kvlist, pitfall 9).
    "genai_input_messages": (("gen_ai.input.messages", struct),),
    "genai_output_messages": (("gen_ai.output.messages", struct),),
    "system_instructions": (("gen_ai.system_instructions", struct),),
    # Plain input/output (JSON text decoded; free text kept as text).
    "input": (
        ("tracepond.input", plain),
        ("langfuse.observation.input", plain),
        ("input.value", plain),
        ("gen_ai.tool.call.arguments", plain),
        ("traceloop.entity.input", plain),
        ("mlflow.spanInputs", plain),
        ("gen_ai.prompt", plain),  # LangSmith: the run's whole inputs
        ("gen_ai.retrieval.query.text", plain),
        ("reranker.query", plain),
    ),
    "output": (
        ("tracepond.output", plain),
        ("langfuse.observation.output", plain),
        ("output.value", plain),
        ("gen_ai.tool.call.result", plain),
        ("traceloop.entity.output", plain),
        ("mlflow.spanOutputs", plain),
        ("gen_ai.completion", plain),  # LangSmith: the run's whole outputs
    ),
    "retrieval_documents": (("gen_ai.retrieval.documents", struct),),
    "invocation_parameters": (
        ("tracepond.llm.invocation_parameters", dict_value),
        ("langfuse.observation.model.parameters", dict_value),
        ("llm.invocation_parameters", dict_value),
        ("embedding.invocation_parameters", dict_value),
    ),
    # tool: gen_ai names first (explicit call data); OI tool.parameters is a JSON *schema*, not
    # arguments (pitfall 11), so it is deliberately absent.
    "tool_name": (
        ("gen_ai.tool.name", text),
        ("tool.name", text),
        ("traceloop.entity.name", text),
        ("langsmith.trace.name", text),
    ),
    "tool_call_id": (
        ("gen_ai.tool.call.id", text),
        ("tool.id", text),
        ("tool_call.id", text),
    ),
    "tool_arguments": (
        ("gen_ai.tool.call.arguments", plain),
        ("tracepond.input", plain),
        ("input.value", plain),
        ("langfuse.observation.input", plain),
        ("traceloop.entity.input", plain),
        ("mlflow.spanInputs", plain),
        ("gen_ai.prompt", plain),
    ),
    "tool_result": (
        ("gen_ai.tool.call.result", plain),
        ("tracepond.output", plain),
        ("output.value", plain),
        ("langfuse.observation.output", plain),
        ("traceloop.entity.output", plain),
        ("mlflow.spanOutputs", plain),
        ("gen_ai.completion", plain),
    ),
    # session/conversation (pitfall 12: langsmith.trace.session_id is the *project*, not used).
    "session_id": (
        ("session.id", text),
        ("gen_ai.conversation.id", text),
        ("langfuse.session.id", text),
        ("mlflow.trace.session", text),
        ("langsmith.metadata.session_id", text),
        ("langsmith.metadata.thread_id", text),
        ("langsmith.metadata.conversation_id", text),
        ("traceloop.association.properties.session_id", text),
        ("langfuse.trace.metadata.langfuse_session_id", text),
    ),
    "user_id": (
        ("user.id", text),
        ("langfuse.user.id", text),
        ("mlflow.trace.user", text),
        ("traceloop.association.properties.user_id", text),
        ("langsmith.metadata.user_id", text),
        ("langfuse.trace.metadata.langfuse_user_id", text),
    ),
    "tags": (
        ("tracepond.tags", tags),
        ("tag.tags", tags),
        ("langfuse.trace.tags", tags),
        ("langsmith.span.tags", tags),
    ),
    "metadata": (("metadata", dict_value),),
    # The producer's name for the unit of work (decorated function, LangSmith run name).
    "entity_name": (
        ("traceloop.entity.name", text),
        ("langsmith.trace.name", text),
    ),
    "agent_name": (
        ("gen_ai.agent.name", text),
        ("agent.name", text),
    ),
    "workflow_name": (
        ("gen_ai.workflow.name", text),
        ("traceloop.workflow.name", text),
    ),
    # exception.* normally arrive on ``exception`` events (read in _errors.py); a few producers
    # flatten them onto the span.
    "error_type": (
        ("error.type", text),
        ("exception.type", text),
    ),
    "error_message": (
        ("langfuse.observation.status_message", text),
        ("exception.message", text),
    ),
    "level": (("langfuse.observation.level", text),),
    # Individual request parameters, merged into invocation_parameters (JSON map wins per key).
    "param.temperature": (("gen_ai.request.temperature", number), ("llm.temperature", number)),
    "param.max_tokens": (
        ("gen_ai.request.max_tokens", count),
        ("gen_ai.request.max_completion_tokens", count),
        ("llm.request.max_tokens", count),
    ),
    "param.top_p": (("gen_ai.request.top_p", number), ("llm.top_p", number)),
    "param.top_k": (("gen_ai.request.top_k", number), ("llm.top_k", number)),
    "param.seed": (("gen_ai.request.seed", count),),
    "param.frequency_penalty": (
        ("gen_ai.request.frequency_penalty", number),
        ("llm.frequency_penalty", number),
    ),
    "param.presence_penalty": (
        ("gen_ai.request.presence_penalty", number),
        ("llm.presence_penalty", number),
    ),
    "param.stop_sequences": (
        ("gen_ai.request.stop_sequences", tags),
        ("llm.chat.stop_sequences", tags),
    ),
    "param.choice_count": (("gen_ai.request.choice.count", count),),
    "param.stream": (
        ("gen_ai.request.stream", plain),
        ("gen_ai.is_streaming", plain),
        ("llm.is_streaming", plain),
    ),
    "param.reasoning_effort": (("gen_ai.request.reasoning_effort", text),),
    "param.encoding_formats": (("gen_ai.request.encoding_formats", tags),),
}

# ---------------------------------------------------------------------------------------------
# Prefix families, scanned only for keys that start with the prefix (classified once per key).

# Indexed flattening: ``<prefix><N>.<suffix>``.
INDEXED_FAMILIES: Final = {
    "llm.input_messages.": "oi_input_messages",
    "llm.output_messages.": "oi_output_messages",
    "gen_ai.prompt.": "legacy_prompt",
    "gen_ai.completion.": "legacy_completion",
    "retrieval.documents.": "oi_documents",
    "reranker.input_documents.": "oi_reranker_input",
    "reranker.output_documents.": "oi_reranker_output",
    "llm.prompts.": "oi_prompts",
    "llm.choices.": "oi_choices",
}
# Metadata flattened one key per entry: ``<prefix><key>`` (leaves may be JSON text).
METADATA_PREFIXES: Final = (
    "tracepond.metadata.",
    "langsmith.metadata.",
    "traceloop.association.properties.",
    "mlflow.traceTag.",
    "langfuse.trace.metadata.",
    "langfuse.observation.metadata.",
)
# Flattened metadata keys that are producer bookkeeping, not user metadata (LangSmith copies its
# env switches, run bookkeeping and usage into ``langsmith.metadata.*``).
METADATA_SKIP: Final = frozenset({"revision_id", "usage_metadata", "_type"})
METADATA_SKIP_PREFIXES: Final = ("ls_", "LANGSMITH_", "lc_")

# Suffixes of one OpenInference message (``llm.input_messages.N.<suffix>``).
OI_MESSAGE: Final = {
    "role": "message.role",
    "content": "message.content",
    "name": "message.name",
    "tool_call_id": "message.tool_call_id",
    "contents": "message.contents.",
    "tool_calls": "message.tool_calls.",
}
OI_CONTENT_PART: Final = {
    "type": "message_content.type",
    "text": "message_content.text",
    "image": "message_content.image.image.url",
}
OI_TOOL_CALL: Final = {
    "id": "tool_call.id",
    "name": "tool_call.function.name",
    "arguments": "tool_call.function.arguments",
}
# Legacy OpenLLMetry ``gen_ai.prompt.N.<suffix>`` / ``gen_ai.completion.N.<suffix>``.
LEGACY_MESSAGE: Final = {
    "role": "role",
    "content": "content",
    "name": "name",
    "tool_call_id": "tool_call_id",
    "finish_reason": "finish_reason",
    "tool_calls": "tool_calls.",
}
LEGACY_TOOL_CALL: Final = {"id": "id", "name": "name", "arguments": "arguments"}
# OpenInference document suffixes (``retrieval.documents.N.<suffix>``).
OI_DOCUMENT: Final = {
    "id": "document.id",
    "content": "document.content",
    "score": "document.score",
    "metadata": "document.metadata",
}

# Deprecated per-message span events (OTel GenAI < 1.37) -> role; ``gen_ai.choice`` is output.
MESSAGE_EVENTS: Final = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT: Final = "gen_ai.choice"
# Events carrying a whole conversation: the current opt-in inference details event (same
# attributes as the span) and Spring AI's content events. event -> (input key, output key).
CONVERSATION_EVENTS: Final = {
    "gen_ai.client.inference.operation.details": (
        "gen_ai.input.messages",
        "gen_ai.output.messages",
    ),
    "gen_ai.content.prompt": ("gen_ai.prompt", ""),
    "gen_ai.content.completion": ("", "gen_ai.completion"),
}
EXCEPTION_EVENT: Final = "exception"
VECTOR_DB_RESULT_EVENT: Final = "db.query.result"
VECTOR_DB_RESULT: Final = {
    "id": "db.query.result.id",
    "content": "db.query.result.document",
    "score": "db.query.result.score",
    "distance": "db.query.result.distance",
    "metadata": "db.query.result.metadata",
}

# Role spellings (LangChain message types, OpenAI developer role) -> unified role.
ROLE_ALIASES: Final = {
    "human": "user",
    "humanmessage": "user",
    "ai": "assistant",
    "aimessage": "assistant",
    "aimessagechunk": "assistant",
    "model": "assistant",
    "systemmessage": "system",
    "developer": "system",
    "toolmessage": "tool",
    "function": "tool",
    "functionmessage": "tool",
}

# Fields grouped by the assembly step that reads them; a span whose plan has no field of a group
# skips that step (``param.*`` fields group under "param").
FIELD_GROUPS: Final = {
    "input_tokens": "usage",
    "output_tokens": "usage",
    "total_tokens": "usage",
    "cache_read_tokens": "usage",
    "cache_write_tokens": "usage",
    "reasoning_tokens": "usage",
    "cost": "cost",
    "cost_input": "cost",
    "cost_output": "cost",
    "invocation_parameters": "param",
    "tool_name": "tool",
    "tool_call_id": "tool",
    "tool_arguments": "tool",
    "tool_result": "tool",
    "genai_input_messages": "content",
    "genai_output_messages": "content",
    "system_instructions": "content",
    "input": "content",
    "output": "content",
    "retrieval_documents": "content",
    "error_type": "error",
    "error_message": "error",
    "level": "error",
}
# View-only fields: parsed only for the full view (``normalize(..., content=True)``), never for
# the columns-only ingest mode. ``param.*`` fields are view-only too.
CONTENT_FIELDS: Final = frozenset(
    {
        "genai_input_messages",
        "genai_output_messages",
        "system_instructions",
        "input",
        "output",
        "tool_arguments",
        "tool_result",
        "invocation_parameters",
        "metadata",
        "tags",
    }
)


def _attributes_of(field: str) -> tuple[str, ...]:
    return tuple(attribute for attribute, _ in FIELD_SOURCES[field])


# View fields that producers often send verbatim as one attribute (JSON text, or free text for
# plain values): the stored view names that attribute instead of repeating its content
# (conventions._stored). Candidates in precedence order; a candidate is used only when
# ``jsonish`` of its value equals the normalized field.
REFERABLE_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "input_messages": ("gen_ai.input.messages",),
    "output_messages": ("gen_ai.output.messages",),
    "documents": ("gen_ai.retrieval.documents",),
    "input": _attributes_of("input"),
    "output": _attributes_of("output"),
    "tool.arguments": _attributes_of("tool_arguments"),
    "tool.result": _attributes_of("tool_result"),
}
