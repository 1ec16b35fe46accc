// Inbox: keyboard shortcuts and bulk selection (no inline script: the CSP forbids it).
