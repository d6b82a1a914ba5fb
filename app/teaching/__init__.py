"""Teaching cases: closed complaints turned into anonymised training material."""
