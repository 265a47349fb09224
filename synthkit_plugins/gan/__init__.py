"""The built-in ``gan`` generator plugin: a class-conditional DCGAN (AC-GAN) for images and a
CTGAN-style conditional GAN for tables.

TensorFlow loads only when a model is fitted or loaded, not when the plugin is registered.
"""

from synthkit import hookimpl


@hookimpl
def synthkit_register_generators(register):
    from synthkit_plugins.gan.generator import GANGenerator

    register("gan", GANGenerator)
