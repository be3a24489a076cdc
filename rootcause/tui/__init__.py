"""`rootcause chat`: the Textual app, a face over the chat engine
(`rootcause.chat`). The only package that imports textual; the CLI imports it
inside the `chat` command only, so `rootcause --help` stays fast."""
