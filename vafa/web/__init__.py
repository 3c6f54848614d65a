"""Web plumbing shared by the portal and the admin: templates, middleware, errors."""
