// The moderation script.
