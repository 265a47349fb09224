"""The built-in ``diffusion`` generator plugin: latent diffusion for images (a U-Net on a denoising
autoencoder's bottleneck, DDIM sampling, classifier-free guidance, ``denoise``), TabDDPM-style
diffusion for tables, and the ``synthkit denoise`` command.

TensorFlow loads only when a model is fitted or loaded, not when the plugin is registered.
"""

from synthkit import hookimpl


@hookimpl
def synthkit_register_generators(register):
    from synthkit_plugins.diffusion.generator import DiffusionGenerator

    register("diffusion", DiffusionGenerator)


@hookimpl
def synthkit_register_commands(cli):
    from synthkit_plugins.diffusion.commands import denoise

    cli.add_command(denoise)
