//! The lasers of a 3MF toolpath (§4.5 Laser Sources): `<tp:lasersources>` read and checked
//! against every rule the specification makes a consumer enforce, and each segment's laser
//! resolved (its `laserindex`, else its profile's, else the sources' `default`).

use std::collections::BTreeSet;

use super::FormatError;
use super::xml::{Attrs, Xml};

/// What `<tp:lasersources>` declares.
#[derive(Debug, Default)]
pub(super) struct LaserSources {
    /// Where it is, for the checks made once it is read whole.
    place: String,
    /// The declared laser indices.
    declared: BTreeSet<u32>,
    /// `default` and where it is given.
    default: Option<u32>,
    /// The declared sync group ids.
    sync_groups: BTreeSet<u32>,
    /// Each sync group's lasers with where they are given.
    sync_lasers: Vec<(u32, u32, String)>,
}

/// An optional integer attribute.
fn opt_num<T: std::str::FromStr>(
    x: &Xml<'_>,
    a: &Attrs,
    key: &str,
    elem: &str,
) -> Result<Option<T>, FormatError> {
    if a.get("", key).is_some() {
        x.num(a, key, elem).map(Some)
    } else {
        Ok(None)
    }
}

impl LaserSources {
    /// `<tp:lasersources>` at the reader's place.
    pub(super) fn start(x: &Xml<'_>, a: &Attrs) -> Result<Self, FormatError> {
        Ok(LaserSources {
            place: x.place(),
            default: opt_num(x, a, "default", "lasersources")?,
            ..LaserSources::default()
        })
    }

    /// One `<tp:lasersource>`: its index unique, its field bounds all four or none and not
    /// inverted, its optical centre both coordinates or neither, its corner radius only with
    /// the bounds, positive and at most half the field's shorter side.
    pub(super) fn source(&mut self, x: &Xml<'_>, a: &Attrs) -> Result<(), FormatError> {
        let e = "lasersource";
        let index: u32 = x.num(a, "index", e)?;
        if !self.declared.insert(index) {
            return Err(x.error(format!(
                "laser source index {index} is declared twice: indices must be unique"
            )));
        }
        const BOUNDS: [&str; 4] = ["minx", "maxx", "miny", "maxy"];
        let mut b: [Option<i64>; 4] = [None; 4];
        for (v, k) in b.iter_mut().zip(BOUNDS) {
            *v = opt_num(x, a, k, e)?;
        }
        let field = match b {
            [Some(x0), Some(x1), Some(y0), Some(y1)] => Some([x0, x1, y0, y1].map(i128::from)),
            [None, None, None, None] => None,
            _ => {
                let (given, missing): (Vec<_>, Vec<_>) =
                    BOUNDS.iter().zip(b).partition(|(_, v)| v.is_some());
                let names = |l: Vec<(&&str, Option<i64>)>| {
                    l.iter().map(|(k, _)| **k).collect::<Vec<_>>().join(", ")
                };
                return Err(x.error(format!(
                    "laser source {index} gives {} of its field bounds without {}: minx, maxx, miny and maxy come all four or none",
                    names(given),
                    names(missing)
                )));
            }
        };
        if let Some([x0, x1, y0, y1]) = field {
            if x1 < x0 {
                return Err(x.error(format!(
                    "laser source {index}: maxx {x1} is less than minx {x0}"
                )));
            }
            if y1 < y0 {
                return Err(x.error(format!(
                    "laser source {index}: maxy {y1} is less than miny {y0}"
                )));
            }
        }
        let centre = (
            opt_num::<i64>(x, a, "centerx", e)?,
            opt_num::<i64>(x, a, "centery", e)?,
        );
        if centre.0.is_some() != centre.1.is_some() {
            return Err(x.error(format!(
                "laser source {index} gives only one of centerx and centery: they come both or neither"
            )));
        }
        if let Some(r) = opt_num::<i64>(x, a, "cornerradius", e)? {
            let Some([x0, x1, y0, y1]) = field else {
                return Err(x.error(format!(
                    "laser source {index}: cornerradius {r} without the field bounds minx, maxx, miny and maxy"
                )));
            };
            if r <= 0 {
                return Err(x.error(format!(
                    "laser source {index}: cornerradius {r} is not positive"
                )));
            }
            let shorter = (x1 - x0).min(y1 - y0);
            if 2 * i128::from(r) > shorter {
                return Err(x.error(format!(
                    "laser source {index}: cornerradius {r} is more than half the shorter side of its field ({shorter})"
                )));
            }
        }
        Ok(())
    }

    /// One `<tp:syncgroup>`: its id positive and unique; its lasers are checked once every
    /// source is known.
    pub(super) fn sync_group(&mut self, x: &Xml<'_>, a: &Attrs) -> Result<(), FormatError> {
        let id: u32 = x.num(a, "id", "syncgroup")?;
        if id == 0 {
            return Err(x.error("sync group id 0: ids are positive"));
        }
        if !self.sync_groups.insert(id) {
            return Err(x.error(format!(
                "sync group id {id} is declared twice: ids must be unique"
            )));
        }
        let lasers = a
            .get("", "lasers")
            .ok_or_else(|| x.error("<syncgroup> needs lasers"))?;
        for v in lasers.split_ascii_whitespace() {
            let i: u32 = v.parse().map_err(|_| {
                x.error(format!(
                    "sync group {id}: lasers entry {v:?} is not a laser index"
                ))
            })?;
            self.sync_lasers.push((id, i, x.place()));
        }
        Ok(())
    }

    /// The checks made once the sources are read whole: at least one declared, and the
    /// `default` and every sync group's lasers among them.
    pub(super) fn finish(&self, name: &str) -> Result<(), FormatError> {
        if self.declared.is_empty() {
            return Err(FormatError::malformed(
                name,
                &self.place,
                "<tp:lasersources> declares no <tp:lasersource>",
            ));
        }
        if let Some(d) = self.default
            && !self.declared.contains(&d)
        {
            return Err(FormatError::malformed(
                name,
                &self.place,
                format!(
                    "lasersources default {d} is not a declared laser source ({})",
                    self.declared_list()
                ),
            ));
        }
        for (id, i, place) in &self.sync_lasers {
            if !self.declared.contains(i) {
                return Err(FormatError::malformed(
                    name,
                    place,
                    format!(
                        "sync group {id} names laser {i}, not a declared laser source ({})",
                        self.declared_list()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A profile's `laserindex`, given at `place`, must be declared.
    pub(super) fn check_profile(
        &self,
        profile: &str,
        index: u32,
        place: &str,
        name: &str,
    ) -> Result<(), FormatError> {
        if self.declared.contains(&index) {
            return Ok(());
        }
        Err(FormatError::malformed(
            name,
            place,
            format!(
                "profile {profile}: laserindex {index} is not a declared laser source ({})",
                self.declared_list()
            ),
        ))
    }

    /// `declared: 0, 1, 2`.
    fn declared_list(&self) -> String {
        let l: Vec<String> = self.declared.iter().map(u32::to_string).collect();
        format!("declared: {}", l.join(", "))
    }
}

/// How segments get their laser, and what the reading had to assume.
#[derive(Debug)]
pub(super) struct LaserRules<'a> {
    sources: Option<&'a LaserSources>,
    /// Without sources: the one index the segments resolved to so far.
    single: Option<u32>,
    /// A segment with no laser index anywhere took the lowest declared one.
    fell_back: bool,
    /// A segment named a sync group.
    synced: bool,
}

impl<'a> LaserRules<'a> {
    /// The rules of a toolpath with `sources` (`None`: no `<tp:lasersources>`).
    pub(super) fn new(sources: Option<&'a LaserSources>) -> Self {
        LaserRules {
            sources,
            single: None,
            fell_back: false,
            synced: false,
        }
    }

    /// The laser of a segment at the reader's place, `own` its `laserindex` and `profile`
    /// its profile's: a declared laser source when the toolpath declares them (0 when it
    /// does not, every segment resolving to one index).
    pub(super) fn resolve(
        &mut self,
        own: Option<u32>,
        profile: Option<u32>,
        x: &Xml<'_>,
    ) -> Result<u8, FormatError> {
        let given = own.or(profile);
        let Some(s) = self.sources else {
            if let Some(i) = given {
                match self.single {
                    Some(j) if j != i => {
                        return Err(x.error(format!(
                            "laserindex {i} where {j} was used before, without <tp:lasersources>: a toolpath using more than one laser must declare them"
                        )));
                    }
                    _ => self.single = Some(i),
                }
            }
            return Ok(0);
        };
        let i = match given.or(s.default) {
            Some(i) => i,
            None => {
                self.fell_back = true;
                s.declared.first().copied().unwrap_or(0)
            }
        };
        if !s.declared.contains(&i) {
            let whose = if own.is_some() {
                "laserindex"
            } else {
                "the profile's laserindex"
            };
            return Err(x.error(format!(
                "{whose} {i} is not a declared laser source ({})",
                s.declared_list()
            )));
        }
        u8::try_from(i).map_err(|_| {
            x.error(format!(
                "laser index {i}: a meltline job names lasers 0 to 255"
            ))
        })
    }

    /// A segment's `lasersync` at the reader's place: it must name a declared sync group.
    pub(super) fn sync(&mut self, id: u32, x: &Xml<'_>) -> Result<(), FormatError> {
        if self.sources.is_some_and(|s| s.sync_groups.contains(&id)) {
            self.synced = true;
            return Ok(());
        }
        Err(x.error(format!("lasersync {id} is not a declared <tp:syncgroup>")))
    }

    /// What the reading assumed, for the user.
    pub(super) fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(i) = self.single.filter(|i| *i != 0) {
            out.push(format!(
                "laserindex {i} without <tp:lasersources>: read as a job for one laser"
            ));
        }
        if self.fell_back
            && let Some(i) = self.sources.and_then(|s| s.declared.first())
        {
            out.push(format!(
                "segments without a laser index and no lasersources default: laser {i}, the lowest declared"
            ));
        }
        if self.synced {
            out.push(
                "lasersync barriers are not kept: a meltline layer's lasers meet only at its end"
                    .into(),
            );
        }
        out
    }
}
