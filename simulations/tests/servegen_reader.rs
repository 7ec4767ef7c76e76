//! The ServeGen rate reader on the real file (rows, models, the hour-of-day figures of the
//! trace's README), on malformed input (errors name the file, line and column) and on arbitrary
//! bytes (it never panics).
#![allow(clippy::unwrap_used)]

mod common;

use common::trace;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use tidepool_sim::traces::servegen::{
    CurveBuilder, CurveError, HEADER, Problem, Row, ServegenError, ServegenReader, demand_curve, demand_curves,
    model_curve,
};

const FILE: &str = "alibaba_servegen_rates/servegen_aggregate_rate_10min.csv.gz";

fn read_all(name: &str, text: &str) -> Vec<Result<Row, ServegenError>> {
    ServegenReader::from_reader(name, text.as_bytes()).collect()
}

/// The error that ends reading `text`.
fn first_error(text: &str) -> ServegenError {
    read_all("bad.csv", text).into_iter().find_map(Result::err).unwrap()
}

const GOOD: &str = "category,model,t_s,day,hour_of_day,agg_rate_rps,active_clients,n_clients\n\
                    language,m-x,0,0,0.0,10.5,3,5\n\
                    language,m-x,600,0,0.167,11,4,5\n";

#[test]
fn reads_every_row_of_the_real_file() {
    let mut per_model: BTreeMap<String, (usize, u32, String)> = BTreeMap::new();
    let mut rows = 0;
    for row in ServegenReader::open(trace(FILE)).unwrap() {
        let row = row.unwrap();
        rows += 1;
        let e = per_model.entry(row.model.clone()).or_insert((0, row.n_clients, row.category.clone()));
        e.0 += 1;
        assert_eq!((e.1, &e.2), (row.n_clients, &row.category), "clients and category are fixed per model");
    }
    assert_eq!(rows, 6336);
    let expect = [
        ("deepseek-r1", (144, 73, "reason")),
        ("m-large", (2016, 162, "language")),
        ("m-mid", (2016, 109, "language")),
        ("m-small", (2016, 43, "language")),
        ("mm-image", (144, 35, "multimodal")),
    ];
    let expect: BTreeMap<String, (usize, u32, String)> =
        expect.iter().map(|(m, (n, c, cat))| ((*m).to_owned(), (*n, *c, (*cat).to_owned()))).collect();
    assert_eq!(per_model, expect);
}

#[test]
fn hour_of_day_curves_match_the_readme() {
    let curves = demand_curves(ServegenReader::open(trace(FILE)).unwrap()).unwrap();
    // (model, trough hour, trough rps, peak hour, peak rps, peak/trough) as the data gives them;
    // the README rounds them (m-small 775..1709, 2.2; m-large 154..224, 1.45; m-mid 1506..2094,
    // 1.39; deepseek-r1 7..35, 4.9; mm-image 5.6..12.8, 2.3) and names only m-small's hours.
    let expect = [
        ("m-small", 5, 775.2, 20, 1709.4, 2.205),
        ("m-large", 8, 154.3, 19, 223.8, 1.450),
        ("m-mid", 16, 1505.3, 3, 2094.3, 1.391),
        ("deepseek-r1", 12, 7.16, 22, 35.13, 4.907),
        ("mm-image", 0, 5.60, 16, 12.76, 2.278),
    ];
    for (model, trough_h, trough, peak_h, peak, ratio) in expect {
        let c = &curves[model];
        assert_eq!((c.trough_hour, c.peak_hour), (trough_h, peak_h), "{model}");
        assert!((c.trough_rps() - trough).abs() <= 0.001 * trough, "{model} trough {}", c.trough_rps());
        assert!((c.peak_rps() - peak).abs() <= 0.001 * peak, "{model} peak {}", c.peak_rps());
        let r = c.peak_to_trough().unwrap();
        assert!((r - ratio).abs() <= 0.001 * ratio, "{model} peak/trough {r}");
        assert_eq!(c.share_of_peak[peak_h], 1.0);
        assert!(c.share_of_peak.iter().all(|s| (0.0..=1.0).contains(s)));
        let days = if c.windows == 2016 { 14 } else { 1 };
        assert!(c.windows_per_hour.iter().all(|&n| n == 6 * days), "{model}: six 10-minute windows an hour a day");
    }
    // m-small precisely: 775.2 at 05:00 .. 1709.4 at 20:00.
    let s = &curves["m-small"];
    assert!((s.trough_rps() - 775.2).abs() < 0.05 && (s.peak_rps() - 1709.4).abs() < 0.05);
    assert!((s.peak_to_trough().unwrap() - 2.205).abs() < 0.001);
    // One model's curve from the streaming helper is the same.
    assert_eq!(&model_curve(ServegenReader::open(trace(FILE)).unwrap(), "m-small").unwrap(), s);
}

#[test]
fn plain_csv_is_read_by_extension_and_gzip_is_required_for_gz() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("servegen_reader");
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("rates.csv");
    std::fs::write(&plain, GOOD).unwrap();
    let rows: Vec<Row> = ServegenReader::open(&plain).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1],
        Row {
            category: "language".into(),
            model: "m-x".into(),
            t_s: 600,
            day: 0,
            hour_of_day: 0.167,
            agg_rate_rps: 11.0,
            active_clients: 4,
            n_clients: 5,
        }
    );

    let gz = dir.join("rates.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(GOOD.as_bytes()).unwrap();
    enc.finish().unwrap();
    let from_gz: Vec<Row> = ServegenReader::open(&gz).unwrap().map(Result::unwrap).collect();
    assert_eq!(from_gz, rows);

    // Plain text under a .gz name is not gzip: an error naming the file, not a panic.
    let fake = dir.join("plain-text.csv.gz");
    std::fs::write(&fake, GOOD).unwrap();
    let err = ServegenReader::open(&fake).unwrap().find_map(Result::err).unwrap();
    assert!(matches!(err, ServegenError::Read { .. }), "{err}");
    assert!(err.to_string().contains("plain-text.csv.gz:"), "{err}");

    let missing = dir.join("no-such-file.csv");
    let err = ServegenReader::open(&missing).err().unwrap();
    assert!(matches!(err, ServegenError::Open { .. }) && err.to_string().contains("no-such-file.csv"), "{err}");
}

#[test]
fn malformed_input_names_file_line_and_column() {
    let header = HEADER.join(",");
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "bad.csv:1: empty file"),
        ("category,model,t,day\n".into(), "bad.csv:1: 4 columns, expected 8"),
        (header.replace("t_s", "ts") + "\n", "bad.csv:1: column 3 of the header is \"ts\", expected \"t_s\""),
        (format!("{header}\nlanguage,m,0,0,0.0,1,1,2\nlanguage,m,600,0\n"), "bad.csv:3: 4 columns, expected 8"),
        (format!("{header}\nlanguage,m,0,0,0.0,fast,1,2\n"), "bad.csv:2: column 6 (agg_rate_rps): \"fast\" is not"),
        (format!("{header}\nlanguage,m,0,0,0.0,-3,1,2\n"), "bad.csv:2: column 6 (agg_rate_rps): \"-3\" is negative"),
        (format!("{header}\nlanguage,m,0,0,0.0,NaN,1,2\n"), "bad.csv:2: column 6 (agg_rate_rps): \"NaN\" is not"),
        (format!("{header}\nlanguage,m,-600,0,0.0,1,1,2\n"), "bad.csv:2: column 3 (t_s): \"-600\" is not a whole"),
        (format!("{header}\nlanguage,m,86400,0,0.0,1,1,2\n"), "bad.csv:2: column 4 (day): \"0\" is not t_s / 86400"),
        (format!("{header}\nlanguage,m,3600,0,0.5,1,1,2\n"), "bad.csv:2: column 5 (hour_of_day): \"0.5\" does not"),
        (format!("{header}\nlanguage,m,0,0,24.0,1,1,2\n"), "bad.csv:2: column 5 (hour_of_day): \"24.0\" is outside"),
        (format!("{header}\nlanguage,m,0,0,0.0,1,3,2\n"), "bad.csv:2: column 7 (active_clients): \"3\" is more than"),
        (format!("{header}\nlanguage,,0,0,0.0,1,1,2\n"), "bad.csv:2: column 2 (model): \"\" is empty"),
        (format!("{header}\nlanguage,\"m\nx\",0,0,0.0,1,1,2\nl,m,\"0,0,0.0,1,1,2\n"), "bad.csv:4:"),
    ];
    for (text, want) in cases {
        let err = first_error(&text);
        assert!(err.to_string().starts_with(want), "got {err:?}\n  display {err}\n  want {want}");
    }
    // Bytes that are not UTF-8.
    let mut bytes = format!("{header}\nlanguage,m").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe,0,0,0.0,1,1,2\n");
    let err = ServegenReader::from_reader("bad.csv", &bytes[..]).find_map(Result::err).unwrap();
    assert!(matches!(err, ServegenError::Field { line: 2, column: 2, problem: Problem::NotUtf8, .. }), "{err}");
}

#[test]
fn reading_stops_after_the_first_error() {
    let text = format!("{GOOD}language,m-x,1200,0,0.333,oops,1,5\nlanguage,m-x,1800,0,0.5,1,1,5\n");
    let items = read_all("x.csv", &text);
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_ok() && items[2].is_err());
}

#[test]
fn curves_need_one_model_every_hour_and_some_demand() {
    let row = |model: &str, t_s: u64, rps: f64| Row {
        category: "language".into(),
        model: model.into(),
        t_s,
        day: (t_s / 86_400) as u32,
        hour_of_day: (t_s % 86_400) as f64 / 3600.0,
        agg_rate_rps: rps,
        active_clients: 1,
        n_clients: 1,
    };
    let day: Vec<Row> = (0..24).map(|h| row("a", h * 3600, 1.0 + h as f64)).collect();
    let c = demand_curve(&day).unwrap();
    assert_eq!((c.trough_hour, c.peak_hour, c.peak_to_trough()), (0, 23, Some(24.0)));
    assert_eq!(demand_curve(&day[..23]).unwrap_err(), CurveError::MissingHour { model: "a".into(), hour: 23 });
    assert_eq!(demand_curve(std::iter::empty()).unwrap_err(), CurveError::NoRows);
    let mut mixed = day.clone();
    mixed.push(row("b", 0, 1.0));
    assert!(matches!(demand_curve(&mixed), Err(CurveError::MixedModels { .. })));
    let idle: Vec<Row> = (0..24).map(|h| row("a", h * 3600, 0.0)).collect();
    assert_eq!(demand_curve(&idle).unwrap_err(), CurveError::NoDemand { model: "a".into() });
    let mut zero_trough = day.clone();
    zero_trough[5].agg_rate_rps = 0.0;
    assert_eq!(demand_curve(&zero_trough).unwrap().peak_to_trough(), None);
    let mut b = CurveBuilder::new("a");
    assert!(b.push(&row("b", 0, 1.0)).is_err());

    let err = model_curve(ServegenReader::from_reader("g.csv", GOOD.as_bytes()), "nope").unwrap_err();
    assert_eq!(err.to_string(), "g.csv: no rows for model \"nope\"");
    let err = demand_curves(ServegenReader::from_reader("g.csv", GOOD.as_bytes())).unwrap_err();
    assert_eq!(err.to_string(), "g.csv: model \"m-x\" has no window in hour 1");
}

/// Reads everything, curves included; only errors may come out.
fn drain(bytes: &[u8]) {
    for item in ServegenReader::from_reader("fuzz.csv", bytes) {
        if let Err(e) = item {
            assert!(e.to_string().starts_with("fuzz.csv"));
        }
    }
    let _ = demand_curves(ServegenReader::from_reader("fuzz.csv", bytes));
    let _ = demand_curves(ServegenReader::from_reader("fuzz.csv.gz", flate2::read::MultiGzDecoder::new(bytes)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        drain(&bytes);
    }

    #[test]
    fn never_panics_on_arbitrary_rows(rows in proptest::collection::vec("[a-z0-9.,\\-\" \\n]{0,40}", 0..12)) {
        let text = format!("{}\n{}", HEADER.join(","), rows.join("\n"));
        drain(text.as_bytes());
    }
}
