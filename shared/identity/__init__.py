"""Who is calling: Firebase ID tokens for clients and mitras, operator tokens for admins."""
