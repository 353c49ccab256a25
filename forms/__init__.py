"""The national SEND assessment form: definitions, validators and the engine that judges answers."""
