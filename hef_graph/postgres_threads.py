"""A Postgres checkpointer that encrypts every channel value, the plain ones included (used when a key is set)."""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres import PostgresSaver

from hef_graph.encryption import Sealed


class SealingPostgresSaver(PostgresSaver):
    """``PostgresSaver`` with plain values (str, number, bool) stored as sealed blobs, not in its JSON column.

    ``PostgresSaver`` keeps such values inline in the checkpoint's JSONB, out of the serializer's reach; boxing
    them in ``Sealed`` sends them to the blobs table through the (encrypting) serializer instead.
    """

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save the checkpoint with its plain values boxed.

        Each boxed channel's current version is written too, not only the new ones: in a thread saved before the
        key was set, an unchanged plain value exists only inline in an older checkpoint (an existing blob of
        that version is left as it is).
        """
        values = checkpoint["channel_values"]
        plain = [name for name, value in values.items() if isinstance(value, (str, int, float))]
        boxed = checkpoint.copy()
        boxed["channel_values"] = {**values, **{name: Sealed(values[name]) for name in plain}}
        current = checkpoint["channel_versions"]
        versions = {**{name: current[name] for name in plain if name in current}, **new_versions}
        return super().put(config, boxed, metadata, versions)
