"""Named crossbar configurations, for ``--preset NAME`` and ``crossbar.PRESETS``."""

from device_models import PCM, RRAM, Ideal

from ..array import ADC, DAC, Crossbar, Periphery

PRESETS: dict[str, Crossbar] = {
    # aihwkit's InferenceRPUConfig defaults with PCMLikeNoiseModel (g_max 25 uS) and GlobalDriftCompensation:
    # 512 x 512 tiles, differential pairs scaled to each tile's abs-max, 7-bit DAC, 9-bit ADC with bound 12,
    # output noise 0.06, abs-max noise management, iterative bound management (docs/models.md sections 1
    # and 5).
    "aihwkit-pcm": Crossbar(device=PCM(), periphery=Periphery(), drift_compensation="global"),
    # The same chip with the CMO/HfOx RRAM model in place of PCM.
    "rram": Crossbar(device=RRAM(), periphery=Periphery(), drift_compensation="global"),
    # Ideal devices and converters: reproduces the digital result (a reference for the others). Inputs are
    # still scaled by their abs-max (exactly, with an ideal DAC), since the DAC's range is [-1, 1].
    "ideal": Crossbar(
        device=Ideal(),
        periphery=Periphery(
            dac=DAC(bits=None),
            adc=ADC(bits=None, bound=1e30),
            output_noise=0.0,
            noise_management="abs_max",
            bound_management="none",
        ),
    ),
}
