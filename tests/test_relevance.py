"""Converter.relevance: an attribution over the picture goes back to the signal's own coordinates.

Hand-computed cases: a GADF row to the time steps it was resampled from, a
spectrogram cell to its second and band (a window from the middle of a long
recording included), a trajectory pixel to the events drawn there.
"""

from __future__ import annotations

import numpy as np
import pytest
from any2img.converters.mouse.log import MouseLog

import any2img
from any2img.converter import Window
from any2img.errors import InputError
from any2img.relevance import EventRelevance, PixelRelevance, SeriesRelevance, SpectrogramRelevance

SERIES = np.sin(np.linspace(0.0, 6.0, 150))


# -- time series -----------------------------------------------------------------------------------------------
def test_a_gadf_row_maps_to_the_steps_it_was_averaged_from():
    # 150 steps shrink to 30 rows by area averaging: row 3 is the mean of steps 15..19.
    conv = any2img.get_converter("gadf", image_size=30)
    a = np.zeros((30, 30))
    a[3, :] = 1.0
    rel = conv.relevance(a, Window(SERIES))
    assert isinstance(rel, SeriesRelevance) and rel.values.shape == (1, 150)
    # half of each pixel goes to its row's steps (30 pixels -> 15 over 5 steps), half to its column's
    # (one pixel per column -> 0.5 over that column's 5 steps, 0.1 each)
    expected = np.full(150, 0.1)
    expected[15:20] += 3.0
    np.testing.assert_allclose(rel.values[0], expected, atol=1e-12)
    assert rel.values.sum() == pytest.approx(a.sum())


def test_a_gadf_pixel_maps_to_interpolated_steps_when_the_series_is_stretched():
    # 10 steps stretch to 19 rows: row k sits at position k / 2, so row 3 lies halfway between steps 1 and 2.
    conv = any2img.get_converter("gadf", image_size=19)
    a = np.zeros((19, 19))
    a[3, 3] = 1.0
    rel = conv.relevance(a, np.arange(10.0))
    np.testing.assert_allclose(rel.values[0], [0, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0], atol=1e-12)
    a[:] = 0.0
    a[4, 4] = 2.0  # row 4 is step 2 exactly
    np.testing.assert_allclose(conv.relevance(a, np.arange(10.0)).values[0], np.eye(10)[2] * 2.0, atol=1e-12)


def test_a_gadf_block_maps_to_its_steps_of_a_gunpoint_length_series():
    # 150 steps shrink to 64 rows: row k averages steps [k * 150 / 64, (k + 1) * 150 / 64). A block of ones on
    # rows and columns 10..20 covers steps 23.4375 .. 49.21875: each step gets 11 (its row's and its column's
    # marginal, half each) times its overlap with the block over the cell width 150 / 64.
    conv = any2img.get_converter("gadf", image_size=64)
    a = np.zeros((64, 64))
    a[10:21, 10:21] = 1.0
    cell = 150 / 64
    expected = np.zeros(150)
    expected[24:49] = 11 / cell
    expected[23] = 11 * (24 - 10 * cell) / cell
    expected[49] = 11 * (21 * cell - 49) / cell
    rel = conv.relevance(a, np.sin(np.linspace(0.0, 6.0, 150)))
    np.testing.assert_allclose(rel.values[0], expected, atol=1e-12)
    assert rel.values.sum() == pytest.approx(121.0)


@pytest.mark.parametrize("name", ["gasf", "mtf", "gaf_mtf"])
def test_every_field_maps_rows_and_columns_as_gadf_does(name):
    conv = any2img.get_converter(name, image_size=30)
    a = np.zeros((30, 30))
    a[3, 3] = 1.0
    expected = np.zeros(150)
    expected[15:20] = 0.2
    np.testing.assert_allclose(conv.relevance(a, SERIES).values[0], expected, atol=1e-12)


def test_a_recurrence_row_is_shared_by_the_steps_of_its_trajectory():
    # No resampling (12 steps = 10 trajectories + (2 - 1) * 2); trajectory 4 is steps 4 and 6.
    conv = any2img.get_converter("recurrence", image_size=10, dimension=2, time_delay=2)
    a = np.zeros((10, 10))
    a[4, 4] = 1.0
    np.testing.assert_allclose(conv.relevance(a, np.arange(12.0)).values[0], np.eye(12)[4] * 0.5 + np.eye(12)[6] * 0.5,
                               atol=1e-12)


def test_a_lineplot_column_maps_to_the_steps_drawn_there():
    # 5 steps across 16 columns (4x supersampled canvas of 64): step t at canvas x = t * 63 / 4.
    conv = any2img.get_converter("lineplot", image_size=16)
    a = np.zeros((16, 16))
    a[:, 0] = 1.0  # column 0 is centred on canvas x = 1.5: step 1.5 / 15.75 = 0.095
    rel = conv.relevance(a, np.array([0.0, 1.0, 0.0, 1.0, 0.0]))
    u = 1.5 * 4 / 63
    np.testing.assert_allclose(rel.values[0], [16 * (1 - u), 16 * u, 0, 0, 0], atol=1e-12)
    a[:] = 0.0
    a[3, 15] = 1.0  # the last column: the last two steps
    assert rel.values.shape == (1, 5) and np.argmax(conv.relevance(a, np.zeros(5) + np.arange(5)).values[0]) == 4


def test_a_lineplot_column_is_shared_by_every_step_it_spans_when_the_series_is_longer():
    # 11 steps across 4 columns (canvas of 16): a canvas column spans 10 / 15 = 2/3 of a step, so each column is
    # sampled 8 times, half a canvas column apart: column 0 at canvas x = -0.25, 0.25, ..., 3.25, i.e. steps
    # 0 (clipped), 1/6, 1/2, 5/6, 7/6, 3/2, 11/6, 13/6, each carrying 4 / 8 of the column's score of 4.
    conv = any2img.get_converter("lineplot", image_size=4)
    a = np.zeros((4, 4))
    a[:, 0] = 1.0
    expected = np.zeros(11)
    expected[:4] = [0.5 * (1 + 5 / 6 + 1 / 2 + 1 / 6), 0.5 * 3.0, 0.5 * (1.5 + 5 / 6), 0.5 / 6]
    np.testing.assert_allclose(conv.relevance(a, np.arange(11.0)).values[0], expected, atol=1e-12)


def test_a_uniform_map_over_a_gunpoint_lineplot_reaches_every_step():
    # 150 steps in 64 columns: sampling only the columns' centres (2.3 steps apart) left 22 steps at 0.
    conv = any2img.get_converter("lineplot", image_size=64)
    rel = conv.relevance(np.ones((64, 64)), np.sin(np.linspace(0.0, 6.0, 150))).values[0]
    assert rel.sum() == pytest.approx(64 * 64)
    inner = rel[1:-1] / (64 * 64 / 149)  # the end steps are drawn over half the width of an inner one
    assert inner.min() > 0.95 and inner.max() < 1.05


def test_tiled_channels_keep_their_own_relevance_and_stacked_ones_share_it():
    series = np.stack([SERIES, SERIES[::-1], -SERIES, SERIES * 2])  # 4 channels -> a 2 x 2 grid of 15 px tiles
    conv = any2img.get_converter("gadf", image_size=30, multivariate="tile")
    a = np.zeros((30, 30))
    a[15 + 3, 15 + 3] = 1.0  # tile 3 (bottom right), its row and column 3 = steps 30..39 of 150
    rel = conv.relevance(a, series)
    assert rel.values.shape == (4, 150)
    np.testing.assert_allclose(rel.values[:3], 0.0)
    np.testing.assert_allclose(rel.values[3, 30:40], 0.1)
    stacked = any2img.get_converter("gadf", image_size=30).relevance(np.ones((30, 30)), series[:2])
    np.testing.assert_allclose(stacked.values[0], stacked.values[1])
    assert stacked.values.sum() == pytest.approx(900.0)


def test_an_attribution_of_the_wrong_size_is_refused():
    with pytest.raises(InputError, match="upsample"):
        any2img.get_converter("gadf", image_size=30).relevance(np.ones((20, 20)), SERIES)
    with pytest.raises(InputError, match="finite"):
        any2img.get_converter("gadf", image_size=2).relevance(np.full((2, 2), np.nan), SERIES)


# -- audio -----------------------------------------------------------------------------------------------------
RATE = 8000


def test_a_spectrogram_cell_maps_to_its_second_and_band_in_a_window_from_the_middle():
    # 10 s recording, 1 s windows; the image at natural size is n_mels rows x frames, low bands at the bottom.
    conv = any2img.get_converter("mel", sample_rate=RATE, n_fft=256, hop_length=80, n_mels=32, duration=1.0)
    y = np.zeros(10 * RATE, dtype=np.float32)
    window = conv.segment(y)[6]
    assert window.start == 6.0
    image = conv.convert(window)
    assert image.shape[:2] == (32, 101)
    a = np.zeros(image.shape[:2])
    a[2, 25] = 1.0  # third row from the top = band 29 of 32; frame 25 = 25 * 80 / 8000 s into the window
    rel = conv.relevance(a, window)
    assert isinstance(rel, SpectrogramRelevance) and rel.values.shape == (32, 101)
    band, frame = np.unravel_index(np.argmax(rel.values), rel.values.shape)
    assert (band, frame) == (29, 25) and rel.values[band, frame] == pytest.approx(1.0)
    assert rel.times[frame] == pytest.approx(6.25)
    import librosa

    centres = librosa.mel_frequencies(34, fmin=0.0, fmax=RATE / 2)[1:-1]
    assert rel.frequency_unit == "Hz" and rel.frequencies[band] == pytest.approx(centres[29])


def test_a_tone_in_a_long_file_is_found_at_its_second_and_frequency_after_a_resize():
    conv = any2img.get_converter("stft", sample_rate=RATE, n_fft=256, hop_length=80, duration=2.0,
                                 image_size=(64, 50), ref="full_scale")
    t = np.arange(10 * RATE) / RATE
    y = np.where((t >= 7.2) & (t < 7.3), 0.8 * np.sin(2 * np.pi * 1000.0 * t), 0.0).astype(np.float32)
    window = conv.segment(y)[3]  # 6 s .. 8 s
    image = conv.convert(window).mean(axis=2)
    a = (image == image.max()).astype(float)  # attribution on the brightest pixels: the tone
    rel = conv.relevance(a, window)
    assert rel.values.sum() == pytest.approx(a.sum())
    seconds = rel.times[np.argmax(rel.over_time())]
    hz = rel.frequencies[np.argmax(rel.over_frequency())]
    assert 7.18 <= seconds <= 7.32 and abs(hz - 1000.0) <= 2 * RATE / 256


@pytest.mark.parametrize("name, unit", [("mfcc", "coefficient"), ("chroma", "pitch class"), ("cqt", "Hz"),
                                        ("mel_deltas", "Hz")])
def test_each_spectrogram_labels_its_rows(name, unit):
    conv = any2img.get_converter(name, sample_rate=RATE, image_size=(24, 20))
    signal = conv.example_signal(0)
    rel = conv.relevance(np.ones((24, 20)), signal)
    assert rel.frequency_unit == unit and rel.values.sum() == pytest.approx(480.0)
    assert rel.times[0] == 0.0 and len(rel.frequencies) == rel.values.shape[0]
    assert np.all(np.diff(rel.frequencies) > 0)


# -- mouse -----------------------------------------------------------------------------------------------------
def _line_log() -> MouseLog:
    """Ten events on a horizontal line, 10 px apart, one every 0.1 s."""
    return MouseLog.from_arrays(np.arange(10) * 0.1, np.arange(10) * 10.0, np.zeros(10))


def test_a_trajectory_pixel_maps_to_the_events_drawn_there():
    conv = any2img.get_converter("trajectory", image_size=64, supersample=1, accel="none")
    log = _line_log()
    # Relative coordinates, 4 % margins: the 90 px span fills 58.88 of 64 px, so event k is drawn at
    # x = 2.56 + 6.542 k on row 32 (no supersampling: Pillow draws point p into pixel p).
    image = conv.convert(log)
    assert image[32, 25].any() and not image[31, 25].any()  # the line passes there, one pixel thick
    a = np.zeros((64, 64))
    a[32, 25] = 1.0  # between event 3 (x 22.19) and event 4 (x 28.73), 43 % of the way
    rel = conv.relevance(a, Window(log, 2, 20.0, 30.0, "events"))
    assert isinstance(rel, EventRelevance) and rel.on_path == 1.0
    u = (25 - (2.56 + 58.88 * 3 / 9)) / (58.88 / 9)
    expected = np.zeros(10)
    expected[3], expected[4] = 1 - u, u
    np.testing.assert_allclose(rel.values, expected, atol=1e-9)
    assert rel.table()["event"][0] == 20  # the window's offset in its session
    assert rel.actions == [{"kind": "MM", "start": 0, "stop": 10, "relevance": pytest.approx(1.0)}]


def test_empty_canvas_goes_to_no_event_and_a_click_ring_to_its_press():
    conv = any2img.get_converter("trajectory", image_size=64, supersample=1, accel="none", click_radius=4.0)
    log = _line_log()
    a = np.zeros((64, 64))
    a[5, 30] = 1.0  # far above the line
    rel = conv.relevance(a, log)
    assert rel.on_path == 0.0 and not rel.values.any()
    states = ["Move"] * 9 + ["Pressed"]
    clicked = MouseLog.from_arrays(log.t, log.x, log.y, ["NoButton"] * 9 + ["Left"], states)
    last_x = 2.56 + 58.88
    a[:] = 0.0
    a[32 - 4, round(last_x)] = 1.0  # on the ring above the press, off the line
    assert conv.convert(clicked)[32 - 4, round(last_x)].any()
    rel = conv.relevance(a, clicked)
    np.testing.assert_allclose(rel.values, np.eye(10)[9], atol=1e-12)


def test_kinematic_fields_map_back_to_the_events_of_their_steps():
    conv = any2img.get_converter("mouse_kinematics", image_size=9)
    log = _line_log()  # 9 steps, a 9 x 9 field, no resize
    a = np.zeros((9, 9))
    a[2, 2] = 1.0  # step 2: events 2 and 3
    rel = conv.relevance(a, log)
    np.testing.assert_allclose(rel.values, np.eye(10)[2] * 0.5 + np.eye(10)[3] * 0.5, atol=1e-6)
    assert rel.on_path is None


# -- images and the base contract ------------------------------------------------------------------------------
def test_the_image_converter_returns_pixel_relevance():
    conv = any2img.get_converter("image")
    a = np.zeros((4, 5))
    a[1, 2] = 3.0
    rel = conv.relevance(a, np.zeros((4, 5, 3), np.uint8))
    assert isinstance(rel, PixelRelevance) and rel.summary()["top_pixels"][0] == [1, 2]


@pytest.mark.parametrize("name", any2img.list_converters())
def test_every_converter_maps_a_uniform_attribution_back_and_keeps_its_total(name):
    conv = any2img.get_converter(name)
    if "image_size" in conv.get_params():
        conv.set_params(image_size=24)
    window = conv.segment(conv.example_signal(0))[0]
    image = conv.convert(window)
    a = np.ones(image.shape[:2])
    rel = conv.relevance(a, window)
    table = rel.table()
    assert len({len(column) for column in table.values()}) == 1 and "relevance" in table
    values = np.asarray(table["relevance"], dtype=float)
    assert np.isfinite(values).all() and (values >= 0).all()
    if isinstance(rel, EventRelevance) and rel.on_path is not None:  # a drawing: empty canvas goes to no event
        assert values.sum() == pytest.approx(rel.on_path * a.sum(), rel=0.05)
    else:
        assert values.sum() == pytest.approx(a.sum())
    json_ready = rel.summary()
    assert json_ready["kind"] == rel.kind


@pytest.mark.parametrize("n, m", [(150, 64), (64, 150), (2000, 128), (7, 3), (3, 7), (128, 128), (5, 1),
                                  (1, 4), (2, 5)])
def test_relevance_goes_back_through_the_resampling_as_its_transpose_without_building_it(n, m):
    from any2img.converters.timeseries.relevance import resample_matrix, to_original_steps

    r = np.random.default_rng(n * 1000 + m).random(m)
    back = to_original_steps(r, n)
    np.testing.assert_allclose(back, resample_matrix(n, m).T @ r, atol=1e-12)
    assert back.shape == (n,) and back.sum() == pytest.approx(r.sum())


def test_relevance_of_a_long_series_needs_no_dense_resampling_matrix():
    from any2img.converters.timeseries.relevance import _matrix, to_original_steps

    _matrix.cache_clear()
    back = to_original_steps(np.ones(128), 100_000)  # the matrix would be 128 x 100,000 float64
    assert back.shape == (100_000,) and back.sum() == pytest.approx(128.0)
    assert _matrix.cache_info().currsize == 0
