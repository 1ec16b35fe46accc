"""E-mail: a brand's support mailbox, read over IMAP and answered over SMTP."""
