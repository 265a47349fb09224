"""Keras sub-networks for the autoencoder plugin: encoders and decoders built separately."""

from __future__ import annotations


def dense_encoder(n_features: int, hidden_units, latent_dim: int, dropout: float = 0.0):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    for i, units in enumerate(hidden_units):
        x = layers.Dense(int(units), activation="relu", name=f"enc_dense_{i}")(x)
        if dropout:
            x = layers.Dropout(float(dropout), name=f"enc_dropout_{i}")(x)
    z = layers.Dense(int(latent_dim), name="bottleneck")(x)
    return keras.Model(inputs, z, name="encoder")


def dense_decoder(n_features: int, hidden_units, latent_dim: int, output_activation: str | None):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(int(latent_dim),), name="code")
    x = inputs
    for i, units in enumerate(reversed(list(hidden_units))):
        x = layers.Dense(int(units), activation="relu", name=f"dec_dense_{i}")(x)
    outputs = layers.Dense(n_features, activation=output_activation, name="reconstruction")(x)
    return keras.Model(inputs, outputs, name="decoder")
