// Starts the vendored Swagger UI on /docs (an external file: the Content-Security-Policy
// allows no inline script). validatorUrl null: Swagger UI would otherwise send the schema to
// validator.swagger.io for a badge.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle !== "function") return;
  SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
