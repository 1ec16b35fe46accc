"""Bluesky (the AT Protocol): hears the brand's mentions, replies and quotes, and
posts matching keywords; answers in the thread or in Bluesky chat."""
