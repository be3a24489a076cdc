"""Chat sessions on a run: typed entries, sessions kept in the workspace, slash commands and
their completion, the chat agent (free text over the registry and ledger tools) and the engine
a chat face calls. Headless: nothing here loads textual or rich."""
