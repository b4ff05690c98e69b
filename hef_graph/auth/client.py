"""A person's own data through the served API: what ``hef forget --server`` does with their token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hef_graph.memory import NAMESPACE_ROOT

PAGE = 100


@dataclass(frozen=True)
class Forgotten:
    """What a served forget deleted."""

    memories: int
    threads: int


def forget_served(url: str, token: str, *, threads: bool = False) -> Forgotten:
    """Delete every memory of the token's person (and, if asked, every thread they own) on a HEF server.

    The server narrows the search to the caller's own namespace and threads, so the token decides whose data
    goes: nobody can forget, or read, someone else's.
    """
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=url, headers={"Authorization": f"Bearer {token}"})
    memories = 0
    while batch := client.store.search_items([NAMESPACE_ROOT], limit=PAGE)["items"]:
        for item in batch:
            client.store.delete_item(item["namespace"], item["key"])
        memories += len(batch)
    deleted_threads = 0
    while threads and (owned := _thread_ids(client)):
        for thread_id in owned:
            client.threads.delete(thread_id)
        deleted_threads += len(owned)
    return Forgotten(memories, deleted_threads)


def _thread_ids(client: Any) -> list[str]:
    return [thread["thread_id"] for thread in client.threads.search(limit=PAGE, select=["thread_id"])]
