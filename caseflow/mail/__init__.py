"""E-mail: templates, what they are given, which steps are heard about, sending over SMTP."""
