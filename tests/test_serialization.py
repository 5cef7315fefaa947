"""YAML round trip of device models and clear errors for malformed files."""

import equinox as eqx
import pytest

import device_models as dm

ROUND_TRIP_MODELS = [
    dm.PCM(),
    dm.RRAM(),
    dm.Ideal(),
    dm.PCM(g_max=20.0, drift_scale=0.5, time_semantics="trajectory", levels=16, g_max_spread=0.03),
    dm.RRAM(faults=dm.StuckAtFaults(p_off=0.09, p_on=0.01), iv_b=3.0),
    dm.Ideal(
        write_verify=dm.WriteVerify(dm.PulseResponse.from_nl(2.4, -4.88), tolerance=0.02, max_pulses=50)
    ),
]


@pytest.mark.parametrize("device", ROUND_TRIP_MODELS, ids=lambda d: type(d).__name__)
def test_save_then_load_gives_an_equal_model(device, tmp_path):
    path = tmp_path / "device.yaml"
    dm.save(device, path)
    loaded = dm.load(path)
    assert type(loaded) is type(device)
    assert eqx.tree_equal(loaded, device)


def test_save_leaves_no_temporary_file(tmp_path):
    dm.save(dm.PCM(), tmp_path / "pcm.yaml")
    assert [p.name for p in tmp_path.iterdir()] == ["pcm.yaml"]


def test_fields_left_out_take_defaults(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("model: pcm\ng_max: 30\n")
    assert eqx.tree_equal(dm.load(path), dm.PCM(g_max=30.0))


BAD_FILES = {
    "g_max: 25\n": "model: expected one of PCM, RRAM, Ideal",
    "model: FeFET\n": "model: expected one of PCM, RRAM, Ideal, HermesPCM, got 'FeFET'",
    "model: PCM\ng_maxx: 25\n": "g_maxx: unknown field",
    "model: PCM\ng_max: high\n": "g_max: expected a finite number",
    "model: PCM\ng_max: true\n": "g_max: expected a finite number",
    "model: PCM\ng_max: .nan\n": "g_max: expected a finite number",
    "model: PCM\ng_max: -1\n": "g_max: expected a finite number > 0, got -1.0",
    "model: PCM\ng_min: 30\n": "g_max: expected a value above g_min = 30.0, got 25.0",
    "model: PCM\ng_min: -2\n": "g_min: expected a finite number >= 0, got -2.0",
    "model: PCM\nprog_noise_scale: -0.5\n": "prog_noise_scale: expected a finite number >= 0",
    "model: PCM\nlevels: 2.5\n": "levels: expected an integer, got 2.5",
    "model: PCM\nlevels: 1\n": "levels: expected an integer >= 2 (or 0 for a continuum)",
    "model: PCM\ntime_semantics: forever\n": "time_semantics: expected one of snapshot, trajectory",
    "model: PCM\nfaults: 0.1\n": "faults: expected a mapping, got float",
    "model: PCM\nfaults: {p_off: 1.5}\n": "faults.p_off: expected a probability in [0, 1], got 1.5",
    "model: PCM\nfaults: {p_stuck: 0.1}\n": "faults.p_stuck: unknown field",
    "model: PCM\nwrite_verify: {response: {p_max: 0}}\n": "write_verify.response.p_max: expected",
    # a file describes one device: a list would be a batch of devices, which the estimator cannot program
    "model: PCM\ng_min: [1, 2]\ng_max: [3, 4, 5]\n": "g_min: expected one finite number, not a list",
    "model: PCM\ng_max: [1, 2]\n": "g_max: expected one finite number, not a list, got [1, 2]",
    "model: PCM\ng_max: 1.0e+300\n": "g_max: expected a finite number within float32's range",
    "model: PCM\nlevels: 100000000000\n": "levels: expected an integer <= 16777216 (or 0 for a continuum)",
    "model: PCM\nwrite_verify: {max_pulses: 1000000000}\n": "write_verify.max_pulses: expected an integer <=",
    "model: PCM\nt0: 1.0e-7\n": "t0: expected a value above t_read",
    "model: RRAM\ng_min: 0\n": "g_min: expected a finite number > 0",
    "model: PCM\ng_max: [\n": "not valid YAML at line",
    "- PCM\n": "expected a mapping with a 'model' key, got list",
}


@pytest.mark.parametrize("text, message", BAD_FILES.items())
def test_malformed_file_names_the_file_and_field(text, message, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        dm.load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_file_that_is_not_text_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xb6\x00\xff model")
    with pytest.raises(ValueError, match=f"^{path}: not valid YAML \\(not UTF-8 text\\)$"):
        dm.load(path)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the file"):
        dm.load(tmp_path / "absent.yaml")
