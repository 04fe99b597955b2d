"""Rules for this family are added once the generated files they read are final."""
