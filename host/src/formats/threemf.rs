//! 3MF Toolpath 1.0 packages written layer by layer.
//!
//! The package holds the core model part `/3D/3dmodel.model` with the Production extension's
//! UUIDs on the object, the build and its item, and a `<tp:toolpathresource>` whose
//! `unitfactor` is the job quantum (model unit millimetre): one `<tp:toolpathprofile>` per
//! parameter set (power, speed, spot radius; hatch distance, spot and skywriting as
//! `ml:` attributes so the job comes back unchanged) with the machine's power and speed
//! limits declared as modifier ranges, and one `<tp:toolpathlayer>` per layer. Each layer is
//! its own OPC part `/Toolpath/Layers/layerNNNNN.xml`, related from the model part, with the
//! part, the profiles and the segments in execution order: `loop` for closed contours (first
//! point not repeated), `polyline` for open ones, `hatch` for vector pairs, each tagged with
//! its meltline kind and region. Layers are written as they come; the model part, which
//! lists them, is written last. The job carries no mesh, so the object is the box of the
//! vectors' bounds. UUIDs derive from the job header, so the same job gives the same bytes.
//!
//! A job naming lasers ([`ThreeMfWriter::write_laser_layer`]) gets `<tp:lasersources>` as the
//! resource's first child: one `<tp:lasersource>` per laser its blocks use (laser 0 when they
//! use none), with the scan field as `minx`/`maxx`/`miny`/`maxy` in toolpath units when the
//! export's machine is the job's and has that laser, `default` the lowest index; and every
//! segment carries its `laserindex` (and `ml:newblock="true"` where it opens a wire block of
//! its own, [`BlockLaser::opens`]). A job naming no lasers is written without any of these.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Seek, Write};

use meltline_firmware::machine::MachineConfig;
use meltline_slicer::job::{Geometry, JobHeader, Layer, Region, VectorKind};
use sha2::Digest;
use uuid::Uuid;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::{BlockLaser, WireSet, fold_bounds};

/// The 3MF core namespace.
pub const NS_CORE: &str = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02";
/// The Production extension namespace.
pub const NS_PROD: &str = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06";
/// The Toolpath 1.0 namespace.
pub const NS_TP: &str = "http://schemas.3mf.io/3dmanufacturing/toolpath/2026/03";
/// The deprecated draft namespace, read but never written.
pub const NS_TP_2019: &str = "http://schemas.microsoft.com/3dmanufacturing/toolpath/2019/05";
/// meltline's own attributes (kind, region, hatch distance…).
pub const NS_ML: &str = "urn:meltline:job:1";
/// The OPC relationship type from the model part to a layer part.
pub const REL_LAYER: &str = "http://schemas.3mf.io/3dmanufacturing/toolpath/2026/03/layer";
/// The OPC relationship type of the 3D model part.
pub const REL_MODEL: &str = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel";
/// Where the model part lives.
pub const MODEL_PART: &str = "3D/3dmodel.model";

/// The UUIDs of one package.
#[derive(Debug, Clone)]
struct Ids {
    seed: [u8; 32],
}

impl Ids {
    fn new(header: &JobHeader) -> Ids {
        Ids {
            seed: sha2::Sha256::digest(format!("{header:?}").as_bytes()).into(),
        }
    }
    fn of(&self, what: &str) -> String {
        let mut name = self.seed.to_vec();
        name.extend_from_slice(what.as_bytes());
        Uuid::new_v5(&Uuid::NAMESPACE_OID, &name).to_string()
    }
}

/// Writes a 3MF Toolpath package one layer at a time.
pub struct ThreeMfWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    header: JobHeader,
    wire: BTreeMap<u16, WireSet>,
    limits: MachineConfig,
    ids: Ids,
    layers: Vec<(String, u64)>,
    bounds: Option<[i32; 4]>,
    /// The lasers the blocks use, `None` while no layer names lasers.
    lasers: Option<BTreeSet<u8>>,
    buf: String,
}

impl<W: Write + Seek> std::fmt::Debug for ThreeMfWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreeMfWriter")
            .field("layers", &self.layers.len())
            .finish()
    }
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
}

fn kind_name(k: VectorKind) -> &'static str {
    match k {
        VectorKind::Contour => "contour",
        VectorKind::Hatch => "hatch",
        VectorKind::Edge => "edge",
        VectorKind::Support => "support",
    }
}

fn region_name(r: Region) -> &'static str {
    match r {
        Region::Part => "part",
        Region::Core => "core",
        Region::Upskin => "upskin",
        Region::Downskin => "downskin",
        Region::Support => "support",
    }
}

/// Escapes text for an XML attribute.
pub fn xml_attr(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

impl<W: Write + Seek> ThreeMfWriter<W> {
    /// Starts a package: content types and the root relationship.
    pub fn new(
        out: W,
        header: &JobHeader,
        wire: BTreeMap<u16, WireSet>,
        limits: &MachineConfig,
    ) -> zip::result::ZipResult<Self> {
        let mut zip = ZipWriter::new(out);
        zip.start_file("[Content_Types].xml", options())?;
        zip.write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
 <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
 <Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>
 <Default Extension="xml" ContentType="application/xml"/>
</Types>
"#,
        )?;
        zip.start_file("_rels/.rels", options())?;
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
 <Relationship Id="rel0" Target="/{MODEL_PART}" Type="{REL_MODEL}"/>
</Relationships>
"#
        )?;
        Ok(ThreeMfWriter {
            zip,
            header: header.clone(),
            wire,
            limits: limits.clone(),
            ids: Ids::new(header),
            layers: Vec::new(),
            bounds: None,
            lasers: None,
            buf: String::new(),
        })
    }

    /// The profile id (1-based position) of parameter set `id` in the header.
    fn profile_id(&self, set: u16) -> Option<usize> {
        self.header
            .parameter_sets
            .iter()
            .position(|p| p.id == set)
            .map(|i| i + 1)
    }

    /// Writes one layer part of a job naming no lasers.
    pub fn write_layer(&mut self, layer: &Layer) -> zip::result::ZipResult<()> {
        self.layer(layer, None)
    }

    /// Writes one layer part of a job naming lasers, `lasers[i]` the laser of
    /// `layer.blocks[i]` (a list of another length is refused).
    pub fn write_laser_layer(
        &mut self,
        layer: &Layer,
        lasers: &[BlockLaser],
    ) -> zip::result::ZipResult<()> {
        self.layer(layer, Some(lasers))
    }

    fn layer(
        &mut self,
        layer: &Layer,
        lasers: Option<&[BlockLaser]>,
    ) -> zip::result::ZipResult<()> {
        if let Some(l) = lasers {
            if l.len() != layer.blocks.len() {
                return Err(zip::result::ZipError::Io(std::io::Error::other(format!(
                    "layer {}: {} blocks but the lasers of {}",
                    self.layers.len(),
                    layer.blocks.len(),
                    l.len()
                ))));
            }
            self.lasers
                .get_or_insert_default()
                .extend(l.iter().map(|b| b.laser));
        }
        fold_bounds(&mut self.bounds, layer);
        let n = self.layers.len();
        let path = format!("/Toolpath/Layers/layer{n:05}.xml");
        let per_layer = self.header.layer_thickness_mm / self.header.quantum_mm;
        let ztop = ((n + 1) as f64 * per_layer).round().max(0.0) as u64;
        let mut s = std::mem::take(&mut self.buf);
        s.clear();
        let _ = write!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<layer xmlns=\"{NS_TP}\" xmlns:ml=\"{NS_ML}\">\n <parts><part id=\"1\" uuid=\"{}\"/></parts>\n <profiles>",
            self.ids.of("item")
        );
        for (i, p) in self.header.parameter_sets.iter().enumerate() {
            let _ = write!(
                s,
                "<profile id=\"{}\" uuid=\"{}\"/>",
                i + 1,
                self.ids.of(&format!("profile {}", p.id))
            );
        }
        s.push_str("</profiles>\n <segments>\n");
        for (i, b) in layer.blocks.iter().enumerate() {
            let Some(pid) = self.profile_id(b.parameter_set) else {
                return Err(zip::result::ZipError::Io(std::io::Error::other(format!(
                    "layer {n}: block uses parameter set {} missing from the header",
                    b.parameter_set
                ))));
            };
            let (ty, pts): (&str, Option<&[[i32; 2]]>) = match &b.geometry {
                Geometry::Polyline(v) if v.len() >= 4 && v.first() == v.last() => {
                    ("loop", Some(&v[..v.len() - 1]))
                }
                Geometry::Polyline(v) => ("polyline", Some(v)),
                Geometry::Vectors(_) => ("hatch", None),
            };
            let _ = write!(
                s,
                "  <segment type=\"{ty}\" profileid=\"{pid}\" partid=\"1\""
            );
            if let Some(l) = lasers.and_then(|l| l.get(i)) {
                let _ = write!(s, " laserindex=\"{}\"", l.laser);
                if l.opens {
                    s.push_str(" ml:newblock=\"true\"");
                }
            }
            let _ = write!(
                s,
                " ml:kind=\"{}\" ml:region=\"{}\">",
                kind_name(b.kind),
                region_name(b.region)
            );
            match (&b.geometry, pts) {
                (_, Some(pts)) => {
                    for p in pts {
                        let _ = write!(s, "<point x=\"{}\" y=\"{}\"/>", p[0], p[1]);
                    }
                }
                (Geometry::Vectors(v), None) => {
                    for [a, c] in v {
                        let _ = write!(
                            s,
                            "<hatch x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
                            a[0], a[1], c[0], c[1]
                        );
                    }
                }
                _ => {}
            }
            s.push_str("</segment>\n");
        }
        s.push_str(" </segments>\n</layer>\n");
        self.zip.start_file(&path[1..], options())?;
        self.zip.write_all(s.as_bytes())?;
        self.buf = s;
        self.layers.push((path, ztop));
        Ok(())
    }

    /// Writes the model part and its relationships, and closes the package.
    pub fn finish(mut self) -> zip::result::ZipResult<W> {
        let model = self.model_xml();
        self.zip.start_file(MODEL_PART, options())?;
        self.zip.write_all(model.as_bytes())?;
        let mut rels = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\n",
        );
        for (i, (path, _)) in self.layers.iter().enumerate() {
            let _ = writeln!(
                rels,
                " <Relationship Id=\"layer{i}\" Target=\"{path}\" Type=\"{REL_LAYER}\"/>"
            );
        }
        rels.push_str("</Relationships>\n");
        self.zip
            .start_file("3D/_rels/3dmodel.model.rels", options())?;
        self.zip.write_all(rels.as_bytes())?;
        self.zip.finish()
    }

    /// The toolpath resource element, self-contained (its namespaces declared on it).
    fn toolpath_xml(&self, s: &mut String) {
        let h = &self.header;
        let _ = writeln!(
            s,
            "  <tp:toolpathresource xmlns:tp=\"{NS_TP}\" xmlns:ml=\"{NS_ML}\" id=\"1\" uuid=\"{}\" unitfactor=\"{}\" toolpathtype=\"planar\" ml:machine=\"{}\" ml:material=\"{}\" ml:layerthickness=\"{}\">",
            self.ids.of("toolpath"),
            h.quantum_mm,
            xml_attr(&h.machine),
            xml_attr(&h.material),
            h.layer_thickness_mm
        );
        self.lasersources_xml(s);
        let m = &self.limits;
        let (p0, p1) = (
            f64::from(m.min_power_mw) / 1000.0,
            f64::from(m.max_power_mw) / 1000.0,
        );
        let (v0, v1) = (m.min_speed_mm_s, m.max_speed_mm_s);
        s.push_str("   <tp:toolpathprofiles>\n");
        for p in &h.parameter_sets {
            let w = self.wire.get(&p.id).copied().unwrap_or_default();
            let _ = writeln!(
                s,
                "    <tp:toolpathprofile uuid=\"{}\" name=\"{} (set {})\" laserpower=\"{}\" laserspeed=\"{}\" spotradius=\"{}\" ml:setid=\"{}\" ml:label=\"{}\" ml:hatch=\"{}\" ml:spot=\"{}\" ml:skywriting=\"{}\">\n     <tp:modifier attribute=\"laserpower\" type=\"constant\" factor=\"e\" minvalue=\"{p0}\" maxvalue=\"{p1}\"/>\n     <tp:modifier attribute=\"laserspeed\" type=\"constant\" factor=\"f\" minvalue=\"{v0}\" maxvalue=\"{v1}\"/>\n    </tp:toolpathprofile>",
                self.ids.of(&format!("profile {}", p.id)),
                xml_attr(&p.label),
                p.id,
                p.power_w.max(0.0),
                p.speed_mm_s,
                f64::from(w.spot_um.max(1)) / 2000.0,
                p.id,
                xml_attr(&p.label),
                p.hatch_mm,
                w.spot_um,
                w.skywriting
            );
        }
        s.push_str("   </tp:toolpathprofiles>\n   <tp:toolpathlayers zbottom=\"0\">\n");
        for (path, ztop) in &self.layers {
            let _ = writeln!(s, "    <tp:toolpathlayer ztop=\"{ztop}\" path=\"{path}\"/>");
        }
        s.push_str("   </tp:toolpathlayers>\n  </tp:toolpathresource>\n");
    }

    /// `<tp:lasersources>` when the job names lasers: every laser used (laser 0 if none is),
    /// with its field when the export's machine is the job's and has that laser.
    fn lasersources_xml(&self, s: &mut String) {
        let Some(used) = &self.lasers else {
            return;
        };
        let used: Vec<u8> = if used.is_empty() {
            vec![0]
        } else {
            used.iter().copied().collect()
        };
        let default = used.first().copied().unwrap_or(0);
        let _ = writeln!(s, "   <tp:lasersources default=\"{default}\">");
        for &i in &used {
            let _ = write!(s, "    <tp:lasersource index=\"{i}\" name=\"Laser {i}\"");
            if let Some([x0, y0, x1, y1]) = self.field_units(i) {
                let _ = write!(
                    s,
                    " minx=\"{x0}\" maxx=\"{x1}\" miny=\"{y0}\" maxy=\"{y1}\""
                );
            }
            s.push_str("/>\n");
        }
        s.push_str("   </tp:lasersources>\n");
    }

    /// Laser `i`'s scan field in toolpath units (quanta), the bounds rounded inwards: only
    /// when the machine given for the export is the one the job is for, and has that laser.
    fn field_units(&self, i: u8) -> Option<[i64; 4]> {
        let m = &self.limits;
        if m.machine.as_str() != self.header.machine {
            return None;
        }
        let f = m
            .laser(usize::from(i))?
            .field_um
            .map(|v| i64::from(v) * 1000);
        let q = (self.header.quantum_mm * 1e6).round();
        if !(q.is_finite() && (1.0..=1e15).contains(&q)) {
            return None;
        }
        let q = q as i64;
        let up = |v: i64| -(-v).div_euclid(q);
        let down = |v: i64| v.div_euclid(q);
        let b = [up(f[0]), up(f[1]), down(f[2]), down(f[3])];
        (b[0] <= b[2] && b[1] <= b[3]).then_some(b)
    }

    fn model_xml(&self) -> String {
        let h = &self.header;
        let mut s = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<model unit=\"millimeter\" xml:lang=\"en-US\" xmlns=\"{NS_CORE}\" xmlns:p=\"{NS_PROD}\" xmlns:tp=\"{NS_TP}\" xmlns:ml=\"{NS_ML}\" requiredextensions=\"p tp\">\n <metadata name=\"Application\">meltline</metadata>\n <resources>\n"
        );
        self.toolpath_xml(&mut s);
        let q = h.quantum_mm;
        let [mut x0, mut y0, mut x1, mut y1] =
            self.bounds.map(|b| b.map(|v| f64::from(v) * q)).unwrap_or([
                h.bounds_mm[0][0],
                h.bounds_mm[0][1],
                h.bounds_mm[1][0],
                h.bounds_mm[1][1],
            ]);
        // A box needs extent on every axis to be a solid.
        if x1 - x0 < q {
            (x0, x1) = (x0 - q, x1 + q);
        }
        if y1 - y0 < q {
            (y0, y1) = (y0 - q, y1 + q);
        }
        let z1 = (self.layers.len().max(1) as f64) * h.layer_thickness_mm;
        let _ = write!(
            s,
            "  <object id=\"2\" p:UUID=\"{}\" type=\"model\" name=\"part\">\n   <mesh>\n    <vertices>\n",
            self.ids.of("object")
        );
        for i in 0..8 {
            let x = if i & 1 == 0 { x0 } else { x1 };
            let y = if i & 2 == 0 { y0 } else { y1 };
            let z = if i & 4 == 0 { 0.0 } else { z1 };
            let _ = writeln!(s, "     <vertex x=\"{x}\" y=\"{y}\" z=\"{z}\"/>");
        }
        s.push_str("    </vertices>\n    <triangles>\n");
        for t in BOX_TRIANGLES {
            let _ = writeln!(
                s,
                "     <triangle v1=\"{}\" v2=\"{}\" v3=\"{}\"/>",
                t[0], t[1], t[2]
            );
        }
        let _ = write!(
            s,
            "    </triangles>\n   </mesh>\n  </object>\n </resources>\n <build p:UUID=\"{}\" tp:toolpathid=\"1\">\n  <item objectid=\"2\" p:UUID=\"{}\"/>\n </build>\n</model>\n",
            self.ids.of("build"),
            self.ids.of("item")
        );
        s
    }
}

/// Outward-facing triangles of the box whose corner `i` has x from bit 0, y bit 1, z bit 2.
const BOX_TRIANGLES: [[u8; 3]; 12] = [
    [0, 2, 1],
    [1, 2, 3],
    [4, 5, 6],
    [5, 7, 6],
    [0, 1, 4],
    [1, 5, 4],
    [2, 6, 3],
    [3, 6, 7],
    [0, 4, 2],
    [2, 4, 6],
    [1, 3, 5],
    [3, 7, 5],
];
