export function ComingSoonPage({ title }: { title: string }) {
  return (
    <section aria-labelledby="soon-title">
      <h1 id="soon-title">{title}</h1>
      <p className="muted">This page is coming soon.</p>
    </section>
  );
}
