//! The generator's calibrated constants, each derived from a public trace in `shared/traces/`
//! (how, in the module above). They are embedded so that generating needs no trace; the test
//! `tests/generator_calibration.rs` derives them again from the traces and fails on drift.

/// Knots of the quantile function of a training job's GPU-time, in GPU-seconds:
/// `(probability, quantile)`, from `tiresias_yarn_gputime/yarn-gput10000.csv` (9,999 jobs of a
/// production YARN GPU cluster). Quantiles are the sample's linearly interpolated order statistics
/// (position `p · (n − 1)`); between knots the generator interpolates the logarithm.
pub const GPU_TIME_QUANTILES: [(f64, f64); 18] = [
    (0.0, 121.0),
    (0.01, 138.0),
    (0.05, 211.0),
    (0.1, 357.0),
    (0.2, 672.0),
    (0.3, 1049.0),
    (0.4, 1559.0),
    (0.5, 2227.0),
    (0.6, 3065.6),
    (0.7, 5556.2),
    (0.8, 12714.2),
    (0.9, 76139.4),
    (0.95, 326715.7),
    (0.98, 1264342.1),
    (0.99, 2271986.6),
    (0.995, 4340686.0),
    (0.999, 11555429.4),
    (1.0, 53294624.0),
];

/// Mean GPU-time of the Tiresias sample, GPU-seconds (the interpolated quantile function above has
/// a mean about 7 % higher, 124,899, from its log-linear top segment).
pub const GPU_TIME_MEAN_TRACE: f64 = 116_539.8;

/// Mean GPUs per GPU job over Helios' four clusters (`helios_cluster_summary.csv`, row `total`,
/// `avg_gpu_num`; 1.58 M GPU jobs). Its median (`med_gpu_num`) is 1.
pub const HELIOS_MEAN_GPUS: f64 = 3.716;

/// Mean GPUs of a running job of 8 or more GPUs, Helios Earth, May 2020, all minutes of the 16
/// VCs (`helios_earth_vc_minutely/vcs/*.csv.gz`: Σ `running_gpu_num_noless_8` /
/// Σ `running_job_num_noless_8`).
pub const HELIOS_LARGE_MEAN_GPUS: f64 = 13.7808;

/// Mean GPUs of a running job of fewer than 8 GPUs, same files (`…_less_8` columns).
pub const HELIOS_SMALL_MEAN_GPUS: f64 = 1.6402;

/// Share of submitted jobs with 8 or more GPUs: the mixture of the two bucket means that gives
/// [`HELIOS_MEAN_GPUS`], `(3.716 − 1.6402) / (13.7808 − 1.6402)`.
pub const LARGE_JOB_SHARE: f64 = 0.17098;

/// Ratio of successive powers of two among jobs of 8 or more GPUs (8, 16, 32, 64 with weights
/// `1, r, r², r³`), fitted so that their mean is [`HELIOS_LARGE_MEAN_GPUS`].
pub const LARGE_JOB_RATIO: f64 = 0.36784;

/// GPUs per training job and their probabilities. Below 8 GPUs: 1, 2, 4 with 2 and 4 equally
/// likely (as in Tiresias' `60_job.csv`, 10 jobs each) and the mean [`HELIOS_SMALL_MEAN_GPUS`];
/// from 8: the geometric weights of [`LARGE_JOB_RATIO`]; the two parts weighted by
/// [`LARGE_JOB_SHARE`]. Mean 3.716, median 1.
pub const GANG_SIZES: [(u32, f64); 7] =
    [(1, 0.5637), (2, 0.1327), (4, 0.1327), (8, 0.1101), (16, 0.0405), (32, 0.0149), (64, 0.0055)];

/// Relative rate of training submissions in each hour of the local day (index 0 = 00:00–01:00),
/// mean 1: per VC and minute, the rise in `total_gpujob_num` (running + pending GPU jobs) when it
/// rises, summed by hour over the 16 VCs and 31 days of `helios_earth_vc_minutely/vcs/` (38,151
/// job arrivals net of departures in the same minute). Trough 0.49 at 07:00, peak 1.38 at 21:00.
pub const TRAINING_ARRIVAL_SHAPE: [f64; 24] = [
    1.1688, 1.1896, 0.9040, 0.8763, 0.7807, 0.6461, 0.5618, 0.4856, 0.4963, 0.8656, 1.0657, 1.0883, 1.1424, 0.9751,
    0.9254, 1.0543, 1.1575, 1.1298, 1.2041, 1.1814, 1.2789, 1.3827, 1.2682, 1.1713,
];

/// An inference demand shape: requests per second by hour of the local day, as shares of the
/// peak hour (an `InferenceService`'s `demand.hourlyProfile`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DemandProfile {
    /// The ServeGen model it comes from.
    pub source_model: &'static str,
    /// Days of trace it averages.
    pub days: u32,
    /// Mean requests per second in the peak hour.
    pub peak_rps: f64,
    /// Mean requests per second in the trough hour.
    pub trough_rps: f64,
    /// Share of the peak in each hour, 0 to 1.
    pub hourly_share: [f64; 24],
}

impl DemandProfile {
    /// Peak over trough.
    pub fn peak_to_trough(&self) -> f64 {
        self.peak_rps / self.trough_rps
    }

    /// Mean share over the day: the fraction of peak capacity the demand uses on average.
    pub fn mean_share(&self) -> f64 {
        self.hourly_share.iter().sum::<f64>() / 24.0
    }
}

/// ServeGen `m-large` (162 clients, 14 days): API-dominated, flat. 154 rps at 08:00 .. 224 at 19:00.
pub const M_LARGE: DemandProfile = DemandProfile {
    source_model: "m-large",
    days: 14,
    peak_rps: 223.81,
    trough_rps: 154.32,
    hourly_share: [
        0.8702, 0.8770, 0.8625, 0.8187, 0.7943, 0.7725, 0.7469, 0.7153, 0.6895, 0.7593, 0.9150, 0.9678, 0.8499, 0.8587,
        0.9159, 0.9159, 0.9708, 0.9437, 0.9104, 1.0000, 0.9916, 0.9400, 0.9648, 0.9502,
    ],
};

/// ServeGen `m-mid` (109 clients, 14 days): flat, peak at night. 1,505 rps at 16:00 .. 2,094 at 03:00
/// (its hourly means include 84 idle windows, whole hours on 5 days).
pub const M_MID: DemandProfile = DemandProfile {
    source_model: "m-mid",
    days: 14,
    peak_rps: 2094.26,
    trough_rps: 1505.30,
    hourly_share: [
        0.8630, 0.8917, 0.9800, 1.0000, 0.8726, 0.8005, 0.8382, 0.9069, 0.8366, 0.8488, 0.9457, 0.9497, 0.8165, 0.9638,
        0.9046, 0.7251, 0.7188, 0.7908, 0.7714, 0.7603, 0.8663, 0.7973, 0.7925, 0.8728,
    ],
};

/// ServeGen `m-small` (43 clients, 14 days): consumer-facing, the deepest tide. 775 rps at 05:00 ..
/// 1,709 at 20:00.
pub const M_SMALL: DemandProfile = DemandProfile {
    source_model: "m-small",
    days: 14,
    peak_rps: 1709.40,
    trough_rps: 775.20,
    hourly_share: [
        0.5764, 0.4903, 0.5038, 0.4647, 0.4906, 0.4535, 0.4702, 0.5871, 0.6976, 0.7245, 0.7729, 0.7513, 0.7282, 0.7374,
        0.7284, 0.7190, 0.7495, 0.7410, 0.6922, 0.8442, 1.0000, 0.9632, 0.8723, 0.7303,
    ],
};

/// ServeGen `mm-image` (35 clients, 1 day): multimodal (image) serving. 5.6 rps at 00:00 .. 12.8 at
/// 16:00.
pub const MM_IMAGE: DemandProfile = DemandProfile {
    source_model: "mm-image",
    days: 1,
    peak_rps: 12.76,
    trough_rps: 5.60,
    hourly_share: [
        0.4389, 0.6596, 0.8302, 0.6429, 0.7163, 0.6972, 0.6440, 0.6802, 0.6429, 0.8260, 0.9903, 0.9276, 0.8017, 0.8192,
        0.9366, 0.9659, 1.0000, 0.7868, 0.6580, 0.6807, 0.7536, 0.6585, 0.6126, 0.4447,
    ],
};

/// ServeGen `deepseek-r1` (73 clients, 1 day): reasoning, the most peaked. 7.2 rps at 12:00 .. 35.1
/// at 22:00.
pub const DEEPSEEK_R1: DemandProfile = DemandProfile {
    source_model: "deepseek-r1",
    days: 1,
    peak_rps: 35.13,
    trough_rps: 7.16,
    hourly_share: [
        0.5496, 0.6333, 0.9274, 0.8152, 0.4850, 0.4139, 0.3416, 0.2630, 0.2715, 0.3027, 0.3693, 0.3783, 0.2038, 0.2482,
        0.3119, 0.3209, 0.4001, 0.2523, 0.3415, 0.2677, 0.5654, 0.7390, 1.0000, 0.5383,
    ],
};

/// Every embedded demand profile.
pub const DEMAND_PROFILES: [&DemandProfile; 5] = [&M_LARGE, &M_MID, &M_SMALL, &MM_IMAGE, &DEEPSEEK_R1];
