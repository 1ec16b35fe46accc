// Case page composer: saved replies, character count.
