// What every page shares: the taxonomy and the regions, loaded once, and bilingual names.
import { client, ok, type Region, type Taxonomy } from "./api";
import { getLang } from "./i18n";

export type { Region, Taxonomy };

export interface Shared {
  taxonomy: Taxonomy;
  regions: Region[];
  names: Map<string, { en: string; zh: string }>;
}

let shared: Promise<Shared> | null = null;

export function loadShared(): Promise<Shared> {
  if (shared === null) {
    shared = (async () => {
      const [taxonomy, regions] = await Promise.all([
        ok(client.GET("/taxonomy")),
        ok(client.GET("/regions")),
      ]);
      const names = new Map<string, { en: string; zh: string }>();
      for (const c of taxonomy.channels) {
        names.set(c.id, { en: c.name_en, zh: c.name_zh });
        for (const sector of c.sectors) names.set(sector.id, { en: sector.name_en, zh: sector.name_zh });
      }
      for (const f of taxonomy.factors) names.set(f.id, { en: f.name_en, zh: f.name_zh });
      for (const r of regions.regions) names.set(r.id, { en: r.name_en, zh: r.name_zh });
      return { taxonomy, regions: regions.regions, names };
    })();
    shared.catch(() => {
      shared = null;
    });
  }
  return shared;
}

/** The name of a region, channel, factor or sector in the current language (its id if unknown). */
export function nameOf(s: Shared, id: string): string {
  const n = s.names.get(id);
  return n ? n[getLang()] : id;
}

export function regionsOf(s: Shared, side: "northeast" | "east"): Region[] {
  return s.regions.filter((r) => r.side === side);
}

export function components(s: Shared): { id: string; kind: "channel" | "factor"; weight: number }[] {
  return [
    ...s.taxonomy.channels.map((c) => ({ id: c.id, kind: "channel" as const, weight: c.default_weight })),
    ...s.taxonomy.factors.map((f) => ({ id: f.id, kind: "factor" as const, weight: f.default_weight })),
  ];
}

export function sectors(s: Shared): { id: string; channel: string }[] {
  return s.taxonomy.channels.flatMap((c) => c.sectors.map((x) => ({ id: x.id, channel: c.id })));
}

/**
 * Turns for a page's repeated request: `const isLatest = turn();` before the request, and
 * `if (!isLatest()) return;` after it. Requests can finish out of order (a slow unfiltered list
 * after a quick filtered one); only the answer to the latest request may be shown.
 */
export function turns(): () => () => boolean {
  let asked = 0;
  return () => {
    const mine = ++asked;
    return () => mine === asked;
  };
}
