"""Reading traces back: tree building and the query service the API and web view call."""
