"""claimdesk: motor-insurance claim complaint desk."""
