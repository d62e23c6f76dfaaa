"""Attribute names the SDK writes.

GenAI semantic-convention names where the convention defines the field; everything else lives
in the one documented `tracepond.*` namespace (see docs/sdk.md).
"""

from __future__ import annotations

from typing import Final

# --- tracepond namespace -------------------------------------------------------------------
SPAN_KIND: Final = "tracepond.span.kind"
INPUT: Final = "tracepond.input"
OUTPUT: Final = "tracepond.output"
# How many items a traced generator yielded (its output holds only the first few).
YIELD_COUNT: Final = "tracepond.output.yield_count"
# Set when a generator span ended because the consumer stopped early (break, close, GC).
CLOSED_EARLY: Final = "tracepond.generator.closed_early"
TAGS: Final = "tracepond.tags"
METADATA_PREFIX: Final = "tracepond.metadata."
FUNCTION: Final = "tracepond.function"
LANGCHAIN_RUN_ID: Final = "tracepond.langchain.run_id"
LANGCHAIN_RUN_TYPE: Final = "tracepond.langchain.run_type"
INVOCATION_PARAMETERS: Final = "tracepond.llm.invocation_parameters"

# --- generic OTel --------------------------------------------------------------------------
ERROR_TYPE: Final = "error.type"
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"

# --- OTel GenAI ----------------------------------------------------------------------------
OPERATION_NAME: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
RESPONSE_MODEL: Final = "gen_ai.response.model"
RESPONSE_ID: Final = "gen_ai.response.id"
RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
REQUEST_TOP_P: Final = "gen_ai.request.top_p"
REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
REQUEST_STREAM: Final = "gen_ai.request.stream"
TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
# Not in the OTel spec (it defines no total); the de-facto name OpenLLMetry and LangSmith use.
USAGE_TOTAL_TOKENS: Final = "gen_ai.usage.total_tokens"
USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
# The call's cost in USD, as the producer knows it: the server keeps it instead of computing
# one from its price table (docs/cost.md).
USAGE_COST: Final = "gen_ai.usage.cost"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
TOOL_NAME: Final = "gen_ai.tool.name"
TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
TOOL_TYPE: Final = "gen_ai.tool.type"
TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"
DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
CONVERSATION_ID: Final = "gen_ai.conversation.id"
AGENT_NAME: Final = "gen_ai.agent.name"
WORKFLOW_NAME: Final = "gen_ai.workflow.name"
EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"

# Span event recorded when a streaming model produces its first token.
FIRST_TOKEN_EVENT: Final = "gen_ai.first_token"
