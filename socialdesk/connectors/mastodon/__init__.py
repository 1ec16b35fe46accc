"""Mastodon (and servers speaking its API): hears the account's mentions, direct
messages included, and hashtags it follows; answers in the thread or directly."""
