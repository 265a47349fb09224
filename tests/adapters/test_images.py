"""Images in every form a user holds them: uint8, floats in [0, 1] and floats in [0, 255].

Every image entry point reads the three as the same pictures, whatever the training images were,
and answers in the input's dtype and scale (``denoise``, ``reconstruct``), or the same scores
(``decision_function``); ``sample`` answers in the training images' dtype and scale. Tiny models:
these check the conversions, not quality.
"""

from __future__ import annotations

from helpers import FORMS, assert_same_pictures

import numpy as np
import pytest

from helpers import bars
from synthkit.api import get_detector, get_generator

TINY_DIFFUSION = dict(
    epochs=1, ae_epochs=2, denoiser_epochs=2, batch_size=16, widths=(8,), steps=2, seed=0
)


@pytest.fixture(scope="module")
def autoencoders():
    X, _ = bars()
    return {
        form: get_detector("autoencoder", epochs=1, batch_size=16, latent_dim=4, seed=0).fit(
            make(X)
        )
        for form, make in FORMS.items()
    }, X


@pytest.mark.parametrize("trained_on", list(FORMS))
def test_autoencoder_reconstruct_and_scores_read_every_form_alike(autoencoders, trained_on):
    models, X = autoencoders
    det = models[trained_on]
    inputs = {form: make(X[:10]) for form, make in FORMS.items()}
    assert_same_pictures({form: det.reconstruct(x) for form, x in inputs.items()}, inputs)
    scores = {form: det.decision_function(x) for form, x in inputs.items()}
    for form, s in scores.items():
        np.testing.assert_allclose(s, scores["uint8"], rtol=1e-5, err_msg=form)
    # the same pictures give the same scores whichever form the detector was fitted on
    np.testing.assert_allclose(
        det.decision_function(inputs["uint8"]),
        models["uint8"].decision_function(inputs["uint8"]),
        rtol=1e-4,
    )


@pytest.mark.slow
def test_a_diffusion_model_fitted_on_floats_answers_each_form_in_its_own():
    """tests/plugins/test_diffusion.py checks this on a model fitted on uint8 images and on its float
    schema; here a model really fitted on float images in [0, 1] (one more diffusion fit)."""
    X, y = bars()
    gen = get_generator("diffusion", denoiser="fit", **TINY_DIFFUSION).fit(
        FORMS["float [0, 1]"](X), y
    )
    assert gen.pixel_denoiser_ is not None
    out = gen.sample(4, y=0, seed=0)
    assert out.dtype == np.float32 and out.max() <= 1
    inputs = {form: make(X[:8]) for form, make in FORMS.items()}
    assert_same_pictures(
        {form: gen.denoise(x, noise_std=0.1) for form, x in inputs.items()}, inputs
    )
