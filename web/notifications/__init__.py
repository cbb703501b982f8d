"""The notifications section of the web app (its pages stay under /sms/ for users)."""
