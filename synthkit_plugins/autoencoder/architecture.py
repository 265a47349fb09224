"""An autoencoder's architecture: its kind, sizes and score resolved from the hyper-parameters and
the data (``arch_``, saved with the model), and the Keras networks built from it.

Kinds (parameter ``kind``):

- ``dense``: fully connected encoder and decoder (tables; images are flattened);
- ``conv``: strided convolutions down, transposed convolutions up (images only);
- ``vae``: a variational autoencoder (convolutional for images, dense for tables);
- ``denoising``: Gaussian noise (``noise_std``) on the inputs during training, clean targets
  (convolutional for images, dense for tables);
- ``auto`` (default): ``conv`` for images, ``dense`` for tables.

Ensembles (parameter ``n_estimators``, dense backbone only): that many autoencoders of the same
shape trained side by side in one Keras model (``networks.MemberDense``: each layer holds every
member's weights and applies them in one batched product), each from its own initial weights and
with its own (trimmed) loss; they see the same batches and stop early together. Each member scores
a row as a single network would, and the ensemble's score is the mean. Averaging removes much of a
single network's dependence on its random start, as in autoencoder ensembles for outlier detection
(Chen et al. 2017). ``auto``: 5 on tables, 1 on images and for the VAE.

This module imports no Keras at the top: the networks module loads only when a model is built.
"""

from __future__ import annotations

import numpy as np

from synthkit.errors import PluginError
from synthkit.adapters import latent_size, strided_layers

KINDS = ("auto", "dense", "conv", "vae", "denoising")
TABLE_TRIM = 0.2  # trim="auto" on tables: share of each batch's worst rows left out of the loss
TABLE_MEMBERS = (
    5  # n_estimators="auto" on tables: autoencoders trained side by side, scores averaged
)


def parse_layer_sizes(value) -> list[int] | None:
    """Layer sizes from a list of integers or the CLI's text ("64,32"); None if they are not a
    non-empty list of positive integers."""
    if isinstance(value, str):  # from the CLI: --param filters=16,32
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        sizes = [int(v) for v in value]
    except (TypeError, ValueError):
        return None
    return sizes if sizes and all(s >= 1 for s in sizes) else None


class LayerSizes:
    """A ``_parameter_constraints`` alternative (``synthkit.parameters``): layer sizes that
    ``parse_layer_sizes`` reads, the CLI's form named after the parameter in the message."""

    def __init__(self, name: str):
        self.name = name

    def accepts(self, value) -> bool:
        """Whether ``value`` gives a non-empty list of positive integers."""
        return parse_layer_sizes(value) is not None

    def describe(self) -> str:
        """What the error message says the parameter must be."""
        return f"a non-empty list of positive integers (CLI: {self.name}=64,32)"


def resolve_choices(params, is_image: bool) -> dict:
    """The kind, backbone, score, loss trim and number of members that an AutoencoderDetector's
    hyper-parameters (``params``) give on images or on tables, refusing, with a PluginError that
    says what to pick instead, the combinations that cannot train or score."""
    if params.kind == "conv" and not is_image:
        raise PluginError("kind='conv' needs images; for tables use kind='dense' (or 'auto')")
    if params.scoring == "elbo" and params.kind != "vae":
        raise PluginError(
            "scoring='elbo' needs kind='vae'; pick mse, l1, bce or hybrid for other kinds"
        )
    kind = params.kind if params.kind != "auto" else ("conv" if is_image else "dense")
    backbone = "conv" if is_image and kind != "dense" else "dense"
    if params.scoring != "auto":
        score = params.scoring
    else:
        score = "elbo" if kind == "vae" else ("relative" if is_image else "hybrid")
    if params.trim == "auto":
        trim = 0.0 if is_image or kind == "vae" else TABLE_TRIM
    else:
        trim = float(params.trim)
    if trim and kind == "vae":
        raise PluginError("trim applies to the reconstruction loss; use trim=0 with kind='vae'")
    if params.n_estimators == "auto":
        members = 1 if is_image or kind == "vae" else TABLE_MEMBERS
    else:
        members = int(params.n_estimators)
    if members > 1 and (backbone != "dense" or kind == "vae"):
        raise PluginError(
            "n_estimators > 1 needs a dense, non-variational autoencoder (tables, or "
            "kind='dense' on images); use n_estimators=1 otherwise"
        )
    if score in ("structural", "relative") and not is_image:
        raise PluginError(f"scoring={score!r} needs images; use hybrid, mse or l1 for tables")
    if score == "bce" and not is_image:  # images are in [0, 1]; tables are standardised
        raise PluginError(
            "scoring='bce' needs data in [0, 1] (images); use mse, l1 or hybrid for tables"
        )
    return {"kind": kind, "backbone": backbone, "score": score, "trim": trim, "members": members}


def resolve_architecture(params, input_shape) -> dict:
    """The architecture (``arch_``) of an AutoencoderDetector's hyper-parameters (``params``) for
    data of ``input_shape`` (one row's or image's): what the model is rebuilt from on load."""
    is_image = len(input_shape) == 3
    choices = resolve_choices(params, is_image)
    n = int(np.prod(input_shape))
    if params.latent_dim == "auto":
        latent = latent_size(input_shape) if is_image else int(np.clip(round(n / 4), 2, 32))
    else:
        latent = int(params.latent_dim)
    if params.hidden_units == "auto":
        first = int(np.clip(2 ** round(np.log2(max(n, 1))), 16, 256))
        hidden = [first, max(first // 2, latent)]
    else:
        hidden = parse_layer_sizes(params.hidden_units)
    return {
        "kind": choices["kind"],
        "backbone": choices["backbone"],
        "input_shape": [int(v) for v in input_shape],
        "latent_dim": latent,
        "hidden_units": hidden,
        "filters": conv_filters(params.filters, input_shape),
        "unit_range": is_image,
        "score": choices["score"],
        "trim": choices["trim"],
        "members": choices["members"],
        "noise_std": float(params.noise_std) if choices["kind"] == "denoising" else 0.0,
    }


def conv_filters(filters, input_shape) -> list[int]:
    """``filters``, or for ``"auto"`` 16, 32, ... (at most 128) channels, one strided layer for each
    ``synthkit.adapters._image_sizes.strided_layers`` of the image (two for tables, where it is unused)."""
    if filters != "auto":
        return parse_layer_sizes(filters)
    layers = strided_layers(input_shape) if len(input_shape) == 3 else 2
    return [min(16 * 2**i, 128) for i in range(layers)]


def member_count(arch: dict) -> int:
    """Autoencoders in the model (``n_estimators``); saved models from before it held one."""
    return int(arch.get("members", 1))


def model_input_shape(arch: dict) -> list[int]:
    """The shape of one input of the joined model: the image for the conv backbone, else flat."""
    return (
        list(arch["input_shape"])
        if arch["backbone"] == "conv"
        else [int(np.prod(arch["input_shape"]))]
    )


def build_networks(arch: dict, dropout: float, beta: float, seed) -> tuple:
    """(encoder, decoder, joined model) for ``arch``, with fresh weights (Keras' random state)."""
    from synthkit_plugins.autoencoder import networks as nets

    shape, kind, latent = arch["input_shape"], arch["kind"], arch["latent_dim"]
    heads = 2 if kind == "vae" else 1
    if arch["backbone"] == "conv":
        encoder = nets.conv_encoder(shape, arch["filters"], latent, outputs=heads)
        decoder = nets.conv_decoder(shape, arch["filters"], latent)
    else:
        n, members = int(np.prod(shape)), member_count(arch)
        encoder = nets.dense_encoder(
            n, arch["hidden_units"], latent, float(dropout), outputs=heads, members=members
        )
        decoder = nets.dense_decoder(
            n,
            arch["hidden_units"],
            latent,
            "sigmoid" if arch["unit_range"] else None,
            members=members,
        )
    model_shape = model_input_shape(arch)
    if kind == "vae":
        model = nets.VAE(
            encoder, decoder, bernoulli=arch["unit_range"], beta=float(beta), seed=seed, name="vae"
        )
        model(np.zeros((1, *model_shape), np.float32))
    else:
        model = nets.autoencoder(
            encoder, decoder, model_shape, noise_std=arch["noise_std"], seed=seed
        )
    return encoder, decoder, model
