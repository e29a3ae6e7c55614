/* blogengine comment widget: placeholder. The widget itself is built in a later issue;
   this file only reserves its URL (/widget/embed.js). */
