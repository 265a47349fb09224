"""The built-in ``autoencoder`` detector plugin: reconstruction error of a Keras autoencoder.

TensorFlow loads only when a model is fitted or loaded, not when the plugin is registered.
"""

from synthkit import hookimpl


@hookimpl
def synthkit_register_detectors(register):
    from synthkit_plugins.autoencoder.detector import AutoencoderDetector

    register("autoencoder", AutoencoderDetector)
