"""Every setting of memhub, in one object built at start-up and passed down (no import-time globals).

Each field reads from the environment as ``MEMHUB_<NAME>`` (e.g. ``MEMHUB_PORT=9000``); CLI flags
override the environment. ``tests/test_settings.py`` fails if a field has no description, so
``memhub serve --help`` and the README table stay complete.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """memhub's configuration."""

    model_config = SettingsConfigDict(env_prefix="MEMHUB_", extra="ignore")

    # --- where things live -----------------------------------------------------------------------
    data: Path = Field(Path("./memhub-data"), description="Data folder: SQLite file, admin key, logs.")
    database_url: str | None = Field(
        None,
        description="Store URL. Default: sqlite:///<data>/memhub.db. postgresql://… selects PostgreSQL.",
    )

    # --- HTTP server -----------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address to bind. Use 0.0.0.0 to serve other machines.")
    port: int = Field(8420, ge=0, le=65535, description="TCP port to listen on.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma list in env). Empty = CORS off."
    )
    docs_public: bool = Field(
        True, description="Serve /docs and /openapi.json without an API key (they contain no data)."
    )
    console: bool = Field(True, description="Serve the web console at /console (sign in with an API key).")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log verbosity.")
    log_json: bool = Field(False, description="Write logs as JSON lines instead of text.")
    metrics_access: Literal["auto", "public", "key", "off"] = Field(
        "auto",
        description="GET /metrics: 'auto' = no key on a loopback host, else an API key; or public/key/off.",
    )

    # --- embeddings ------------------------------------------------------------------------------
    embedder: Literal["local", "openai"] = Field(
        "local",
        description="'local' = a bundled model (offline, see embed_model); 'openai' = an HTTP endpoint.",
    )
    embed_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint for embedder=openai, e.g. http://localhost:11434/v1."
    )
    embed_model: str | None = Field(
        None,
        description="embedder=local: all-MiniLM-L6-v2 (default) or paraphrase-MiniLM-L3-v2 (~4.7x less "
        "model CPU per text, a little less recall: README, 'The fast local model'); embedder=openai: the "
        "endpoint's model name (default text-embedding-3-small).",
    )
    embed_api_key: str | None = Field(None, description="API key for embedder=openai (never logged).")
    embed_threads: int | None = Field(
        None,
        ge=1,
        description="Threads the local model embeds on (a batch each). Default: one per usable CPU.",
    )

    # --- LLM extraction (pipeline/extractors/llm.py) ---------------------------------------------
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible chat endpoint for fact extraction, e.g. http://localhost:11434/v1. "
        "Unset = the rule extractor (no LLM).",
    )
    llm_model: str | None = Field(None, description="Chat model name for LLM extraction (required with it).")
    llm_api_key: str | None = Field(
        None,
        description="API key for the LLM endpoint (never logged; prefer the environment variable to the"
        " flag, which other local users can see in the process list).",
    )
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds one LLM request may take before it is retried or given up."
    )
    llm_max_retries: int = Field(
        1, ge=0, description="Retries of a failed LLM request; then the rule extractor's facts are used."
    )

    # --- reranking (pipeline/rerankers) ---------------------------------------------------------
    rerank_base_url: str | None = Field(
        None,
        description="Reranker endpoint root: POST <url>/rerank, or a chat API root with reranker=llm. "
        "Unset = no reranker (a search with rerank=true is refused).",
    )
    reranker: Literal["http", "tei", "llm"] = Field(
        "http",
        description="What serves --rerank-base-url: 'http' = Cohere/Jina/vLLM/Infinity/llama.cpp "
        "{model, query, documents}; 'tei' = Hugging Face TEI {query, texts}; 'llm' = a chat model grading "
        "passages.",
    )
    rerank_model: str | None = Field(
        None, description="Model name sent to the reranker (required unless reranker=tei)."
    )
    rerank_api_key: str | None = Field(None, description="API key for the reranker endpoint (never logged).")
    rerank_timeout: float = Field(
        10.0, gt=0, description="Seconds one rerank request may take before it is retried or given up."
    )

    # --- keyword search (storage/sql/analysis.py) ---------------------------------------------------
    keyword_stemmer: Literal["english", "none"] = Field(
        "english",
        description="Word forms keyword search conflates: 'english' = Snowball English stems ('camped' finds "
        "'camping'); 'none' = whole words (case and accents folded). A change re-indexes the store on start.",
    )

    # --- outbound calls to endpoints tenants register (pipeline/outbound.py) --------------------------
    outbound_tenant_calls: bool = Field(
        True,
        description="Call endpoints that tenants register (GoodMem rerankers/LLMs); false = refuse them all.",
    )
    outbound_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts and IPs/CIDRs tenant-registered endpoints may reach although not public "
        "(comma list, e.g. vllm.internal,10.0.0.0/8). Else loopback, private and link-local are refused.",
    )

    # --- worker ----------------------------------------------------------------------------------
    worker: bool = Field(True, description="Run the ingestion worker inside the server process.")
    worker_batch_size: int = Field(32, ge=1, le=1024, description="Jobs claimed and embedded together.")
    lease_seconds: float = Field(60.0, gt=0, description="Seconds before a crashed worker's job is retried.")
    max_attempts: int = Field(3, ge=1, description="Attempts before a job ends failed.")
    gc_tuning: bool = Field(
        True,
        description="Set Python's garbage collector for a server while memhub runs: young collections "
        "every 10,000 allocations instead of 700; memhub serve also freezes its start-up objects out of "
        "full collections. false = leave the process's collector as it is.",
    )

    # --- limits ----------------------------------------------------------------------------------
    max_body_bytes: int = Field(10_000_000, ge=1024, description="Largest request body accepted (413 above).")
    max_messages_per_request: int = Field(500, ge=1, description="Messages in one add request (413 above).")
    max_content_chars: int = Field(100_000, ge=1, description="Characters in one message or query.")
    max_document_chars: int = Field(5_000_000, ge=1, description="Characters in one document.")
    max_pdf_pages: int = Field(1000, ge=1, description="Pages in one PDF document (413 above).")
    max_pdf_inflated_bytes: int = Field(
        256_000_000,
        ge=1,
        description="Bytes a PDF's compressed streams may inflate to, in total (413 above).",
    )
    max_pdf_pixels: int = Field(
        500_000_000, ge=1, description="Pixels of all page images of one PDF at 150 dpi (413 above)."
    )
    pdf_memory_mb: int = Field(
        1024, ge=256, description="Address space of the process that reads one PDF (413 when exceeded)."
    )
    pdf_cpu_seconds: int = Field(
        60, ge=1, description="CPU seconds the process reading one PDF may use (killed at twice that, wall)."
    )
    pdf_tenant_concurrency: int = Field(
        1, ge=1, description="PDFs one tenant may have read at once (429 + Retry-After above)."
    )
    pdf_processes: int = Field(
        2, ge=1, description="PDF-reading processes at once, all tenants (others wait, then 503)."
    )
    max_page_size: int = Field(1000, ge=1, description="Largest page of a listing.")
    max_search_limit: int = Field(200, ge=1, description="Largest number of search results per request.")
    body_timeout: float = Field(
        60.0, gt=0, description="Seconds a request's body may take to arrive, from its headers (408 above)."
    )
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a connection may take to send a request's headers (then closed)."
    )
    max_connections: int = Field(
        1000, ge=1, description="Open connections and requests at once; new requests get 503 above it."
    )
    rate_limit_per_minute: int | None = Field(
        None, ge=1, description="Requests per minute per API key (429 + Retry-After above). Off by default."
    )

    # --- GoMemory protocol adapter (api/compat/gomemory/) -----------------------------------------
    gomemory_tenant: str | None = Field(
        None,
        description="Tenant the GoMemory-compatible API serves. Unset = that API is off (it has no auth).",
    )
    gomemory_prefix: str = Field(
        "/gomemory",
        description="URL prefix of the GoMemory API: clients use base_url=http://host:port<prefix>.",
    )
    gomemory_allow_remote: bool = Field(
        False, description="Allow the unauthenticated GoMemory API on a non-loopback host (default: refused)."
    )
    gomemory_api_key: str | None = Field(
        None,
        description="If set, GoMemory requests need 'Authorization: Bearer <key>' (then any host is OK).",
    )

    # --- GoodMem and GUMem protocol adapters (api/compat/goodmem/, api/compat/gumem/) -------------
    goodmem_prefix: str = Field(
        "/goodmem",
        description="URL prefix of the GoodMem API: the GoodMem SDK uses base_url=http://host:port<prefix>.",
    )
    gumem_prefix: str = Field(
        "/gumem",
        description="URL prefix of the GUMem API: the GUMem SDK uses host=http://host:port<prefix>.",
    )

    # --- mem0 protocol adapter (api/compat/mem0/) -------------------------------------------------
    mem0_prefix: str = Field(
        "/mem0",
        description="URL prefix of the mem0 API: the mem0 clients use host=http://host:port<prefix>.",
    )

    # --- Memsy protocol adapter (api/compat/memsy/) -----------------------------------------------
    memsy_prefix: str = Field(
        "/memsy/v1",
        description="URL prefix of the Memsy API: clients use MemsyClient(base_url=http://host:port<prefix>).",
    )
    memsy_clear_mode: Literal["delete", "stub"] = Field(
        "delete",
        description="Memsy's legacy DELETE /clear/{tag}: 'delete' forgets that session, 'stub' answers 501.",
    )

    @field_validator("cors_origins", "outbound_allow", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        """``MEMHUB_CORS_ORIGINS=https://a,https://b`` is a comma list (a JSON list works too)."""
        if isinstance(value, str) and value.lstrip().startswith("["):
            return json.loads(value)
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _allow_entries_are_hosts_or_networks(cls, value: list[str]) -> list[str]:
        """A typo (``10.0.0.0/33``, ``host:8000``) fails at start-up, not as a name that never matches."""
        for entry in value:
            text = entry.strip().strip("[]")
            if not (_is_network(text) or _HOST_NAME.fullmatch(text)):
                raise ValueError(
                    f"outbound_allow entry {entry!r} is neither a host name nor an IP/CIDR (no port, no URL)"
                )
        return value

    @model_validator(mode="after")
    def _llm_needs_a_model(self) -> Settings:
        """Caught at start-up, not at the first message: an LLM endpoint is useless without a model name."""
        if self.llm_base_url and not self.llm_model:
            raise ValueError("llm_base_url is set but llm_model is not: give --llm-model (MEMHUB_LLM_MODEL)")
        return self

    @model_validator(mode="after")
    def _reranker_is_usable(self) -> Settings:
        """Caught at start-up, not at the first search that asks for reranking."""
        if self.rerank_base_url and not self.rerank_base_url.startswith(("http://", "https://")):
            raise ValueError(f"rerank_base_url must be an http(s) URL, not {self.rerank_base_url!r}")
        if self.rerank_base_url and self.reranker != "tei" and not self.rerank_model:
            raise ValueError(
                f"rerank_base_url is set but rerank_model is not (reranker={self.reranker}): "
                "give --rerank-model (MEMHUB_RERANK_MODEL)"
            )
        return self

    def secrets(self) -> list[str]:
        """Every secret these settings hold, for the log redactor: API keys, and the passwords and query
        values of the configured URLs."""
        keys = (self.embed_api_key, self.llm_api_key, self.rerank_api_key, self.gomemory_api_key)
        urls = (self.database_url, self.embed_base_url, self.llm_base_url, self.rerank_base_url)
        found = [key for key in keys if key]
        for url in urls:
            parts = urlsplit(url or "")
            if parts.password:
                found.append(parts.password)
            found.extend(value for _, value in parse_qsl(parts.query))
        return found

    def store_url(self) -> str:
        """The effective store URL."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data / 'memhub.db').resolve()}"


_HOST_NAME = re.compile(r"(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+")


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True
