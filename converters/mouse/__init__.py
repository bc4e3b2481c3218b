"""Mouse-dynamics converters: trajectory drawings and kinematic images."""
